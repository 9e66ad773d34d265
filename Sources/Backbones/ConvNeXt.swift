import Checkpoints
import Tensors

/// ConvNeXt (Liu et al. 2022), as timm and torchvision build it: a 4×4 stride-4 stem with
/// a LayerNorm, then four stages of blocks (depthwise 7×7 → LayerNorm → Linear 4× → GELU →
/// Linear → LayerScale, residual), each stage after the first opened by a LayerNorm and a
/// 2×2 stride-2 convolution. Layers offered to the explorer are the four stage outputs, as
/// for ResNet; the classifier is global average → LayerNorm → Linear. Weights are read
/// under timm's names; `ConvNeXtFamily` maps torchvision's onto them.
public struct ConvNeXt: Backbone {
    struct Block: Sendable {
        let depthwise: Convolution
        let normWeight: Tensor, normBias: Tensor
        let fc1Weight: Tensor, fc1Bias: Tensor?
        let fc2Weight: Tensor, fc2Bias: Tensor?
        let layerScale: Tensor?
    }

    struct Stage: Sendable {
        /// LayerNorm then the 2×2 stride-2 convolution (nil for the first stage).
        let downsample: (normWeight: Tensor, normBias: Tensor, convolution: Convolution)?
        let blocks: [Block]
    }

    public let summary: ArchitectureSummary
    let stem: Convolution
    let stemNorm: (weight: Tensor, bias: Tensor)
    let stages: [Stage]
    let head: (normWeight: Tensor, normBias: Tensor, weight: Tensor, bias: Tensor?)?
    static let eps: Float = 1e-6

    init(weights: WeightSource, summary makeSummary: (_ width: Int, _ classes: Int?, _ depths: [Int]) throws -> ArchitectureSummary) throws {
        let stemWeight = try weights.tensor("stem.0.weight")
        guard stemWeight.shape.count == 4, stemWeight.shape[1] == 3 else {
            throw UnknownArchitecture(reason: "\(weights.spelled("stem.0.weight")) is not [width, 3, k, k]", sampleNames: [])
        }
        let kernel = stemWeight.shape[2]
        stem = Convolution(weight: stemWeight, convBias: try weights.optional("stem.0.bias"), batchNorm: nil, eps: 0,
                           stride: kernel, padding: .symmetric(0))
        let stemWidth = stemWeight.shape[0]
        stemNorm = (try weights.tensor("stem.1.weight", shape: [stemWidth]), try weights.tensor("stem.1.bias", shape: [stemWidth]))
        var stages: [Stage] = []
        var depths: [Int] = []
        var channels = stemWidth
        for index in 0..<4 {
            let s = "stages.\(index)."
            var downsample: (Tensor, Tensor, Convolution)?
            if weights.has(s + "downsample.1.weight") {
                let norm = (try weights.tensor(s + "downsample.0.weight", shape: [channels]),
                            try weights.tensor(s + "downsample.0.bias", shape: [channels]))
                let weight = try weights.tensor(s + "downsample.1.weight")
                guard weight.shape.count == 4, weight.shape[1] == channels else {
                    throw UnknownArchitecture(reason: "\(weights.spelled(s + "downsample.1.weight")) has shape \(weight.shape)", sampleNames: [])
                }
                let convolution = Convolution(weight: weight, convBias: try weights.optional(s + "downsample.1.bias"), batchNorm: nil,
                                              eps: 0, stride: weight.shape[2], padding: .symmetric(0))
                downsample = (norm.0, norm.1, convolution)
                channels = weight.shape[0]
            } else if index > 0 {
                throw UnknownArchitecture(reason: "missing tensor '\(weights.spelled(s + "downsample.1.weight"))'", sampleNames: [])
            }
            var blocks: [Block] = []
            while weights.has(s + "blocks.\(blocks.count).conv_dw.weight") {
                let b = s + "blocks.\(blocks.count)."
                let hidden = weights.shape(b + "mlp.fc1.weight")?.first ?? 4 * channels
                let dw = try weights.tensor(b + "conv_dw.weight", shape: [channels, 1, 7, 7])
                blocks.append(Block(
                    depthwise: Convolution(weight: dw, convBias: try weights.optional(b + "conv_dw.bias", shape: [channels]),
                                           batchNorm: nil, eps: 0, stride: 1, padding: .symmetric(3), depthwise: true),
                    normWeight: try weights.tensor(b + "norm.weight", shape: [channels]),
                    normBias: try weights.tensor(b + "norm.bias", shape: [channels]),
                    fc1Weight: try weights.tensor(b + "mlp.fc1.weight", shape: [hidden, channels]),
                    fc1Bias: try weights.optional(b + "mlp.fc1.bias", shape: [hidden]),
                    fc2Weight: try weights.tensor(b + "mlp.fc2.weight", shape: [channels, hidden]),
                    fc2Bias: try weights.optional(b + "mlp.fc2.bias", shape: [channels]),
                    layerScale: try Self.layerScale(weights, b + "gamma", channels: channels)))
            }
            guard !blocks.isEmpty else {
                throw UnknownArchitecture(reason: "stage \(index + 1) has no blocks (\(weights.spelled(s + "blocks.0.conv_dw.weight")))", sampleNames: [])
            }
            depths.append(blocks.count)
            stages.append(Stage(downsample: downsample, blocks: blocks))
        }
        self.stages = stages
        var classes: Int?
        if let fc = weights.shape("head.fc.weight"), fc.count == 2, fc[1] == channels {
            head = (try weights.tensor("head.norm.weight", shape: [channels]), try weights.tensor("head.norm.bias", shape: [channels]),
                    try weights.tensor("head.fc.weight"), try weights.optional("head.fc.bias", shape: [fc[0]]))
            classes = fc[0]
        } else {
            head = nil
        }
        summary = try makeSummary(channels, classes, depths)
    }

    public func forward(pixels: [Float], height: Int, width: Int) -> Trace {
        let image = FeatureMaps.channelsLast(pixels, channels: 3, height: height, width: width)
        var (x, h, w) = stem.apply(image, height: height, width: width)
        x = Self.normalize(x, channels: stem.outChannels, weight: stemNorm.weight, bias: stemNorm.bias)
        var channels = stem.outChannels
        var layers: [Trace.Layer] = []
        for stage in stages {
            if let down = stage.downsample {
                x = Self.normalize(x, channels: channels, weight: down.normWeight, bias: down.normBias)
                (x, h, w) = down.convolution.apply(x, height: h, width: w)
                channels = down.convolution.outChannels
            }
            for block in stage.blocks {
                let (mixed, _, _) = block.depthwise.apply(x, height: h, width: w)
                let normed = Tensor(shape: [h * w, channels], scalars: mixed)
                    .layerNormLastAxis(weight: block.normWeight, bias: block.normBias, eps: Self.eps)
                let update = normed.linear(weight: block.fc1Weight, bias: block.fc1Bias, gelu: true)
                    .linear(weight: block.fc2Weight, bias: block.fc2Bias)
                x.withUnsafeMutableBufferPointer { target in
                    update.scalars.withUnsafeBufferPointer { source in
                        if let scale = block.layerScale {
                            scale.scalars.withUnsafeBufferPointer { VectorMath.addRows(target, source, columns: channels, weights: $0) }
                        } else {
                            VectorMath.addRows(target, source, columns: channels, weights: nil)
                        }
                    }
                }
            }
            layers.append(Trace.Layer(tokens: FeatureMaps.tokens(x, channels: channels, height: h, width: w),
                                      gridHeight: h, gridWidth: w, prefixTokens: 0, attention: nil))
        }
        var logits: [Float]?
        if let head {
            let pooled = Tensor(shape: [1, channels], scalars: FeatureMaps.globalAverage(x, channels: channels, plane: h * w))
                .layerNormLastAxis(weight: head.normWeight, bias: head.normBias, eps: Self.eps)
            logits = pooled.linear(weight: head.weight, bias: head.bias).scalars
        }
        return Trace(layers: layers, final: layers.last!, logits: logits)
    }

    /// LayerScale as timm keeps it (`[C]`) or torchvision (`[C, 1, 1]`).
    static func layerScale(_ weights: WeightSource, _ name: String, channels: Int) throws -> Tensor? {
        guard let shape = weights.shape(name) else { return nil }
        guard shape.reduce(1, *) == channels, shape.first == channels else {
            throw UnknownArchitecture(reason: "'\(weights.spelled(name))' has shape \(shape), expected [\(channels)]", sampleNames: [])
        }
        return try weights.tensor(name).reshaped([channels])
    }

    /// LayerNorm over the channels of a channels-last map (timm's LayerNorm2d).
    static func normalize(_ x: [Float], channels: Int, weight: Tensor, bias: Tensor) -> [Float] {
        Tensor(shape: [x.count / channels, channels], scalars: x).layerNormLastAxis(weight: weight, bias: bias, eps: eps).scalars
    }
}
