import Dispatch
import Imaging
import ModelRuntime

/// Runs the model on one image at one resolution: what the explorer's background worker
/// and `render` call.
public struct ImageLoader: Sendable {
    public let model: LoadedModel
    public let labels: ImageNetLabels?
    /// Images are kept for display at most this large on their longer side.
    public static let displaySide = 640

    public init(model: LoadedModel, labels: ImageNetLabels?) {
        self.model = model
        self.labels = labels
    }

    public func load(path: String, resolution: Int) throws -> ImageResult {
        try run(ImageDecoder.decode(path: path).rgb(), resolution: resolution)
    }

    /// The model on an image already decoded (so callers that also need the full-size
    /// pixels read the file once).
    public func run(_ image: PixelImage, resolution: Int) throws -> ImageResult {
        let preprocessor = Preprocessor(resolution: resolution, patchSize: model.preprocessor.patchSize,
                                        normalization: model.preprocessor.normalization)
        let input = preprocessor.prepare(image)
        let start = DispatchTime.now().uptimeNanoseconds
        // Only the [CLS] rows of the attention are kept (see `Trace.compacted`).
        let trace = model.backbone.forward(pixels: input.pixels, height: input.height, width: input.width).compacted()
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        var top: (String, Float)?
        if let logits = trace.logits, let best = (labels ?? ImageNetLabels(names: [])).top(logits, count: 1).first {
            top = (best.name, best.probability)
        }
        var result = ImageResult(image: Self.displayCopy(image), trace: trace, resolution: resolution,
                                 inputWidth: input.width, inputHeight: input.height, forwardMilliseconds: milliseconds, topLabel: top)
        result.decodeWarning = image.warning
        return result
    }

    public static func displayCopy(_ image: PixelImage) -> PixelImage {
        let side = max(image.width, image.height)
        guard side > displaySide else { return image }
        let scale = Double(displaySide) / Double(side)
        return Resampler.resize(image, width: max(1, Int((Double(image.width) * scale).rounded())),
                                height: max(1, Int((Double(image.height) * scale).rounded())), filter: .bilinear)
    }
}
