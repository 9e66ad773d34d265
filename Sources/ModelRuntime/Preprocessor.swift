import Backbones
import Checkpoints
import Imaging

/// Turns a decoded image into the model's input as the references prepare theirs: a
/// bicubic resize (PIL's, bit for bit) and per-channel normalisation. The whole image is
/// kept (no centre crop, so maps cover everything the user sees): the shorter side
/// becomes `resolution`, the aspect ratio is kept, and for ViTs both sides are rounded to
/// the patch size, with the patch count capped.
public struct Preprocessor: Sendable {
    public let resolution: Int
    public let patchSize: Int?
    public let normalization: Normalization
    public let maximumTokens: Int

    public init(resolution: Int = 224, patchSize: Int?, normalization: Normalization, maximumTokens: Int = 4096) {
        precondition(resolution > 0)
        self.resolution = resolution
        self.patchSize = patchSize
        self.normalization = normalization
        self.maximumTokens = maximumTokens
    }

    /// The input size for an image of `width`×`height`.
    public func inputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let shorter = Double(min(width, height)), scale = Double(resolution) / shorter
        var w = Double(width) * scale, h = Double(height) * scale
        guard let patch = patchSize else {
            return (max(1, Int(w.rounded())), max(1, Int(h.rounded())))
        }
        // Cap the token count by shrinking both sides together.
        let tokens = (w / Double(patch)) * (h / Double(patch))
        if tokens > Double(maximumTokens) {
            let shrink = (Double(maximumTokens) / tokens).squareRoot()
            w *= shrink
            h *= shrink
        }
        func snap(_ side: Double) -> Int { max(1, Int((side / Double(patch)).rounded())) * patch }
        var size = (width: snap(w), height: snap(h))
        while (size.width / patch) * (size.height / patch) > maximumTokens {
            if size.width >= size.height { size.width -= patch } else { size.height -= patch }
        }
        return size
    }

    /// `[3, height, width]` normalised floats and the size chosen.
    public func prepare(_ image: PixelImage) -> (pixels: [Float], width: Int, height: Int) {
        let size = inputSize(width: image.width, height: image.height)
        let resized = Resampler.resize(image.rgb(), width: size.width, height: size.height, filter: .bicubic)
        return (normalization.chw(resized), size.width, size.height)
    }

    /// The preprocessing a model expects: its source's mean/std when given
    /// (preprocessor_config.json, timm's pretrained_cfg, the file's metadata), the
    /// EfficientNet-Lite convention (x − 127)/128, or ImageNet statistics.
    public static func forModel(_ summary: ArchitectureSummary, facts: SourceFacts, resolution: Int) -> Preprocessor {
        let normalization: Normalization
        if let declared = facts.normalization {
            normalization = Normalization(mean: declared.value.mean, std: declared.value.std)
        } else if let statistics = summary.statistics {
            normalization = Normalization(mean: statistics.mean, std: statistics.std)
        } else if summary.family == .efficientnetLite {
            normalization = Normalization(mean: [127 / 255, 127 / 255, 127 / 255], std: [128 / 255, 128 / 255, 128 / 255])
        } else {
            normalization = .imagenet
        }
        return Preprocessor(resolution: resolution, patchSize: summary.patchSize, normalization: normalization)
    }

}
