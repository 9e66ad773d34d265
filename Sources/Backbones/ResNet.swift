import Checkpoints
import Tensors

/// torchvision / timm ResNet-18/34/50/101/152 (stride on the 3×3 convolution, "v1.5"),
/// and the official SimPool ResNet-50. Layers offered to the explorer are the four stage
/// outputs.
public struct ResNet: Backbone {
    struct Unit: Sendable {
        let convolutions: [Convolution]   // 2 (basic) or 3 (bottleneck)
        let downsample: Convolution?
    }

    public let summary: ArchitectureSummary
    let stem: Convolution
    let stages: [[Unit]]
    let classifier: (weight: Tensor, bias: Tensor)?

    init(checkpoint: Checkpoint, prefix: String) throws {
        let weights = WeightSource(checkpoint: checkpoint, prefix: prefix)
        var evidence: [String] = []
        if !prefix.isEmpty { evidence.append("weights under prefix '\(prefix)' (stripped)") }
        let bottleneck = weights.has("layer1.0.conv3.weight")
        evidence.append(bottleneck ? "layer1.0.conv3 present: bottleneck blocks" : "no layer1.0.conv3: basic blocks")
        var counts: [Int] = []
        for stage in 1...4 {
            var count = 0
            while weights.has("layer\(stage).\(count).conv1.weight") { count += 1 }
            guard count > 0 else { throw UnknownArchitecture(reason: "layer\(stage) missing", sampleNames: checkpoint.names) }
            counts.append(count)
        }
        evidence.append("blocks per stage \(counts)")
        let depth = counts.reduce(0, +) * (bottleneck ? 3 : 2) + 2
        let eps: Float = 1e-5
        stem = try weights.convolution("conv1", batchNorm: "bn1", eps: eps, stride: 2, padding: .symmetric(3))
        var stages: [[Unit]] = []
        for (index, count) in counts.enumerated() {
            var units: [Unit] = []
            for block in 0..<count {
                let name = "layer\(index + 1).\(block)"
                let stride = block == 0 && index > 0 ? 2 : 1
                var convolutions: [Convolution] = []
                if bottleneck {
                    convolutions.append(try weights.convolution(name + ".conv1", batchNorm: name + ".bn1", eps: eps, stride: 1, padding: .symmetric(0)))
                    convolutions.append(try weights.convolution(name + ".conv2", batchNorm: name + ".bn2", eps: eps, stride: stride, padding: .symmetric(1)))
                    convolutions.append(try weights.convolution(name + ".conv3", batchNorm: name + ".bn3", eps: eps, stride: 1, padding: .symmetric(0)))
                } else {
                    convolutions.append(try weights.convolution(name + ".conv1", batchNorm: name + ".bn1", eps: eps, stride: stride, padding: .symmetric(1)))
                    convolutions.append(try weights.convolution(name + ".conv2", batchNorm: name + ".bn2", eps: eps, stride: 1, padding: .symmetric(1)))
                }
                let downsample = weights.has(name + ".downsample.0.weight")
                    ? try weights.convolution(name + ".downsample.0", batchNorm: name + ".downsample.1", eps: eps, stride: stride, padding: .symmetric(0))
                    : nil
                units.append(Unit(convolutions: convolutions, downsample: downsample))
            }
            stages.append(units)
        }
        self.stages = stages
        let width = stages.last!.last!.convolutions.last!.outChannels
        if let fc = weights.shape("fc.weight"), fc.count == 2, fc[1] == width {
            classifier = (try weights.tensor("fc.weight"), try weights.tensor("fc.bias", shape: [fc[0]]))
            evidence.append("fc.weight: \(fc[0])-class classifier")
        } else {
            classifier = nil
        }
        let simpool = SimPoolHeadNames.find(in: checkpoint) != nil
        if simpool { evidence.append("SimPool pooling head present") }
        summary = ArchitectureSummary(
            family: .resnet, familyName: ResNetFamily.familyName, name: "ResNet-\(depth)", layerCount: 4, width: width, heads: nil, patchSize: nil,
            classCount: classifier.map { $0.weight.shape[0] }, hasSimPoolHead: simpool, evidence: evidence,
            stripPrefix: prefix, unusedNames: try TensorAccounting.check(weights, family: ResNetFamily.familyName))
    }

    public func forward(pixels: [Float], height: Int, width: Int) -> Trace {
        let image = FeatureMaps.channelsLast(pixels, channels: 3, height: height, width: width)
        var (x, h, w) = stem.apply(image, height: height, width: width, activation: .relu)
        (x, h, w) = FeatureMaps.maxPool(x, channels: stem.outChannels, height: h, width: w)
        var layers: [Trace.Layer] = []
        for units in stages {
            for unit in units {
                // The shortcut is added, and the final ReLU applied, inside the last product.
                let shortcut = unit.downsample.map { $0.apply(x, height: h, width: w).values } ?? x
                var y = x, yh = h, yw = w
                for (i, convolution) in unit.convolutions.enumerated() {
                    let last = i == unit.convolutions.count - 1
                    (y, yh, yw) = convolution.apply(y, height: yh, width: yw, activation: .relu,
                                                    residual: last ? shortcut : nil)
                }
                (x, h, w) = (y, yh, yw)
            }
            let channels = units.last!.convolutions.last!.outChannels
            layers.append(Trace.Layer(tokens: FeatureMaps.tokens(x, channels: channels, height: h, width: w),
                                      gridHeight: h, gridWidth: w, prefixTokens: 0, attention: nil))
        }
        var logits: [Float]?
        if let classifier {
            let pooled = FeatureMaps.globalAverage(x, channels: summary.width, plane: h * w)
            logits = Tensor(shape: [1, summary.width], scalars: pooled)
                .linear(weight: classifier.weight, bias: classifier.bias).scalars
        }
        return Trace(layers: layers, final: layers.last!, logits: logits)
    }
}
