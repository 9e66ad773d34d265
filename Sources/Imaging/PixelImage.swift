/// An 8-bit raster: gray (1 channel), gray+alpha (2), RGB (3) or RGBA (4), row-major and
/// interleaved. Decoders return what the file holds; `rgb()` gives what models consume.
public struct PixelImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]
    /// What the decoder had to say about a file it could still decode (a damaged ancillary
    /// PNG chunk, stray bytes in a JPEG): shown to the user with the picture, never dropped.
    public var warning: String?

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && (1...4).contains(channels))
        precondition(pixels.count == width * height * channels,
                     "\(pixels.count) bytes do not fill \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Three channels, as PIL's `convert("RGB")`: gray is replicated, alpha dropped
    /// (not composited), so pixel values match the references models were tested with.
    public func rgb() -> PixelImage {
        if channels == 3 { return self }
        var converted = PixelImage(width: width, height: height, channels: 3, pixels: rgbPixels())
        converted.warning = warning
        return converted
    }

    private func rgbPixels() -> [UInt8] {
        var result = [UInt8](repeating: 0, count: width * height * 3)
        let count = width * height
        pixels.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for i in 0..<count {
                    switch channels {
                    case 1, 2:
                        let v = source[i * channels]
                        target[i * 3] = v
                        target[i * 3 + 1] = v
                        target[i * 3 + 2] = v
                    default:
                        target[i * 3] = source[i * 4]
                        target[i * 3 + 1] = source[i * 4 + 1]
                        target[i * 3 + 2] = source[i * 4 + 2]
                    }
                }
            }
        }
        return result
    }

    /// One channel: gray as is; colour by ITU-R 601 luma with PIL's fixed-point rounding
    /// (L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16), as `convert("L")` computes it.
    public func gray() -> PixelImage {
        if channels == 1 { return self }
        var result = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            if channels <= 2 {
                result[i] = pixels[i * channels]
            } else {
                let r = UInt32(pixels[i * channels])
                let g = UInt32(pixels[i * channels + 1])
                let b = UInt32(pixels[i * channels + 2])
                result[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
            }
        }
        var converted = PixelImage(width: width, height: height, channels: 1, pixels: result)
        converted.warning = warning
        return converted
    }
}
