/// Turning pixels into the model's input: scale to [0, 1], subtract the mean, divide by
/// the standard deviation, channels first (what torchvision's ToTensor + Normalize do).
public struct Normalization: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3)
        self.mean = mean
        self.std = std
    }

    public static let imagenet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// `[3, height, width]` floats from an RGB image, row-major.
    public func chw(_ image: PixelImage) -> [Float] {
        let rgb = image.rgb()
        let plane = rgb.width * rgb.height
        var result = [Float](repeating: 0, count: plane * 3)
        for c in 0..<3 {
            let scale = 1 / (255 * std[c])
            let offset = mean[c] / std[c]
            for i in 0..<plane {
                result[c * plane + i] = Float(rgb.pixels[i * 3 + c]) * scale - offset
            }
        }
        return result
    }
}
