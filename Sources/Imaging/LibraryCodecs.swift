import CImageCodecs

/// PNG and JPEG through libpng and libjpeg-turbo, the decoders PIL itself links.
enum LibraryCodecs {
    static func decodePNG(_ bytes: UnsafeRawBufferPointer, maximumPixels: Int) throws -> PixelImage {
        try decode(bytes, maximumPixels: maximumPixels, with: spx_png_decode)
    }

    static func decodeJPEG(_ bytes: UnsafeRawBufferPointer, maximumPixels: Int) throws -> PixelImage {
        try decode(bytes, maximumPixels: maximumPixels, with: spx_jpeg_decode)
    }

    private typealias Decoder = (UnsafePointer<UInt8>?, Int, Int64, UnsafeMutablePointer<spx_raster>?,
                                 UnsafeMutablePointer<CChar>?, Int) -> Int32

    private static func decode(_ bytes: UnsafeRawBufferPointer, maximumPixels: Int,
                               with decoder: Decoder) throws -> PixelImage {
        var raster = spx_raster()
        var message = [CChar](repeating: 0, count: 256)
        let status = decoder(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, Int64(maximumPixels),
                             &raster, &message, message.count)
        guard status == 0 else {
            throw DecodeError(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { spx_free(raster.pixels) }
        let width = Int(raster.width), height = Int(raster.height), channels = Int(raster.channels)
        let samples = width * height * channels
        var pixels = [UInt8](repeating: 0, count: samples)
        if raster.bit_depth == 16 {
            // Keep the high byte of each sample, as PIL does for 16-bit colour PNGs.
            raster.pixels.withMemoryRebound(to: UInt16.self, capacity: samples) { source in
                for i in 0..<samples { pixels[i] = UInt8(source[i] >> 8) }
            }
        } else {
            pixels.withUnsafeMutableBufferPointer { target in
                target.baseAddress!.update(from: raster.pixels, count: samples)
            }
        }
        var image = raster.is_cmyk != 0
            ? cmykToRGB(width: width, height: height, inverted: pixels)
            : PixelImage(width: width, height: height, channels: channels, pixels: pixels)
        // On success the message buffer holds the decoder's first warning, if it gave one.
        if message[0] != 0 {
            image.warning = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return image
    }

    /// Adobe CMYK JPEGs store inverted ink values. PIL un-inverts them and converts with
    /// R = (255 − K) − C·(255 − K)/255, rounding through its MULDIV255; so do we.
    private static func cmykToRGB(width: Int, height: Int, inverted: [UInt8]) -> PixelImage {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        func mulDiv255(_ a: Int, _ b: Int) -> Int {
            let t = a * b + 128
            return ((t >> 8) + t) >> 8
        }
        for i in 0..<(width * height) {
            let paper = Int(inverted[i * 4 + 3])  // 255 − K
            for channel in 0..<3 {
                let ink = 255 - Int(inverted[i * 4 + channel])
                rgb[i * 3 + channel] = UInt8(clamping: paper - mulDiv255(ink, paper))
            }
        }
        return PixelImage(width: width, height: height, channels: 3, pixels: rgb)
    }
}

/// PNG encoding through libpng.
public enum PNGEncoder {
    public static func encode(_ image: PixelImage) throws -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            spx_png_encode(pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                           &output, &size, &message, message.count)
        }
        guard status == 0, let output else {
            throw ImageError(path: "PNG encoder", problem: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { spx_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}
