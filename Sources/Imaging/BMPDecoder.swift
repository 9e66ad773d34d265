/// Windows BMP: 1/4/8-bit palettes (plain, RLE4, RLE8), 16/24/32-bit (plain or with
/// channel bit masks), bottom-up or top-down. Written here because no system library
/// reads it. Every choice follows Pillow's reader, which the reference models were
/// evaluated with: the same channel scaling, the same run-length semantics, and the same
/// refusals (unsupported mask layouts, palettes over 256 entries, data that ends early).
enum BMPDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, maximumPixels: Int) throws -> PixelImage {
        let cursor = ByteCursor(bytes)
        guard bytes.count >= 26 else { throw DecodeError("truncated file: BMP header incomplete") }
        let pixelOffset = Int(try cursor.u32(at: 10))
        let headerSize = Int(try cursor.u32(at: 14))
        var width: Int, height: Int, bitCount: Int, compression = 0, paletteCount = 0
        let paletteEntrySize: Int
        switch headerSize {
        case 12:
            width = try cursor.u16(at: 18)
            height = try cursor.u16(at: 20)
            bitCount = try cursor.u16(at: 24)
            paletteEntrySize = 3
        case 40, 52, 56, 64, 108, 124:
            width = try cursor.i32(at: 18)
            height = try cursor.i32(at: 22)
            bitCount = try cursor.u16(at: 28)
            compression = Int(try cursor.u32(at: 30))
            paletteCount = Int(try cursor.u32(at: 46))
            paletteEntrySize = 4
        default:
            throw DecodeError("unsupported BMP header size \(headerSize)")
        }
        let topDown = height < 0
        height = abs(height)
        try ImageDecoder.checkSize(width: width, height: height, maximumPixels: maximumPixels)
        guard [1, 4, 8, 16, 24, 32].contains(bitCount) else {
            throw DecodeError("unsupported BMP pixel depth (\(bitCount) bits)")
        }
        guard [0, 1, 2, 3].contains(compression) else {
            throw DecodeError("unsupported BMP compression (\(compression))")
        }
        let layout = try PixelLayout(cursor: cursor, bitCount: bitCount, compression: compression, headerSize: headerSize)

        var palette: [(UInt8, UInt8, UInt8)] = []
        if bitCount <= 8 {
            let entries = paletteCount == 0 ? 1 << bitCount : paletteCount
            guard entries <= 256 else { throw DecodeError("unsupported BMP palette size (\(entries) entries, at most 256)") }
            let paletteStart = 14 + headerSize + (compression == 3 && headerSize == 40 ? 12 : 0)
            for i in 0..<min(entries, 1 << bitCount) {
                let at = paletteStart + i * paletteEntrySize
                palette.append((try cursor.u8(at: at + 2), try cursor.u8(at: at + 1), try cursor.u8(at: at)))
            }
        }
        func paletteColor(_ index: Int) -> (UInt8, UInt8, UInt8) {
            index < palette.count ? palette[index] : (0, 0, 0)
        }

        // Uncompressed rows must all be present before any pixel memory is taken.
        let stride = ((width * bitCount + 31) / 32) * 4
        if compression == 0 || compression == 3 {
            guard pixelOffset <= bytes.count, stride * height <= bytes.count - pixelOffset else {
                throw DecodeError("truncated file: BMP pixel data ends early "
                                  + "(\(width)×\(height) needs \(stride * height) bytes after offset \(pixelOffset))")
            }
        }

        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        func setPixel(_ x: Int, _ fileRow: Int, _ color: (UInt8, UInt8, UInt8)) {
            let y = topDown ? fileRow : height - 1 - fileRow
            let at = (y * width + x) * 3
            rgb[at] = color.0
            rgb[at + 1] = color.1
            rgb[at + 2] = color.2
        }

        switch layout {
        case .runLength(let fourBit):
            let indices = try RunLengthBMP.decode(bytes, from: pixelOffset, fourBit: fourBit, width: width, height: height)
            for row in 0..<height {
                for x in 0..<width { setPixel(x, row, paletteColor(Int(indices[row * width + x]))) }
            }
        case .indexed:
            for row in 0..<height {
                let rowStart = pixelOffset + row * stride
                for x in 0..<width {
                    let bit = x * bitCount
                    let byte = bytes[rowStart + bit / 8]
                    let shift = 8 - bitCount - bit % 8
                    let index = Int(byte >> UInt8(shift)) & ((1 << bitCount) - 1)
                    setPixel(x, row, paletteColor(index))
                }
            }
        case .bytes(let red, let green, let blue):
            let pixelBytes = bitCount / 8
            for row in 0..<height {
                let rowStart = pixelOffset + row * stride
                for x in 0..<width {
                    let at = rowStart + x * pixelBytes
                    setPixel(x, row, (bytes[at + red], bytes[at + green], bytes[at + blue]))
                }
            }
        case .packed16(let greenBits):
            for row in 0..<height {
                let rowStart = pixelOffset + row * stride
                for x in 0..<width {
                    let value = try cursor.u16(at: rowStart + x * 2)
                    setPixel(x, row, Self.unpack16(value, greenBits: greenBits))
                }
            }
        }
        return PixelImage(width: width, height: height, channels: 3, pixels: rgb)
    }

    /// A 5-6-5 or 5-5-5 pixel widened as Pillow's `BGR;16` / `BGR;15` unpackers do:
    /// v·255/max, rounded down (a 5-bit 30 is 246, where bit replication would give 247).
    static func unpack16(_ value: Int, greenBits: Int) -> (UInt8, UInt8, UInt8) {
        let greenMax = (1 << greenBits) - 1
        let blue = value & 31
        let green = (value >> 5) & greenMax
        let red = (value >> (5 + greenBits)) & 31
        return (UInt8(red * 255 / 31), UInt8(green * 255 / greenMax), UInt8(blue * 255 / 31))
    }

    /// Where a pixel's channels are, for the layouts Pillow reads; every other mask set is
    /// refused as Pillow refuses it, rather than decoded into colours it would not show.
    enum PixelLayout {
        case runLength(fourBit: Bool)
        case indexed
        /// Byte offsets of red, green and blue inside a 3- or 4-byte pixel.
        case bytes(red: Int, green: Int, blue: Int)
        case packed16(greenBits: Int)

        init(cursor: ByteCursor, bitCount: Int, compression: Int, headerSize: Int) throws {
            switch (compression, bitCount) {
            case (1, 8): self = .runLength(fourBit: false)
            case (2, 4): self = .runLength(fourBit: true)
            case (1, _), (2, _):
                throw DecodeError("unsupported BMP variant: run-length compression \(compression) with \(bitCount) bits per pixel")
            case (0, 1), (0, 4), (0, 8): self = .indexed
            case (0, 16): self = .packed16(greenBits: 5)
            case (0, 24), (0, 32): self = .bytes(red: 2, green: 1, blue: 0)
            case (3, 16), (3, 24), (3, 32):
                let count = headerSize >= 56 ? 4 : 3
                let masks = try (0..<count).map { try cursor.u32(at: 54 + $0 * 4) }
                let rgb = Array(masks.prefix(3))
                if bitCount == 16, rgb == [0xF800, 0x07E0, 0x001F] {
                    self = .packed16(greenBits: 6)
                } else if bitCount == 16, rgb == [0x7C00, 0x03E0, 0x001F] {
                    self = .packed16(greenBits: 5)
                } else if bitCount == 24, rgb == [0xFF0000, 0xFF00, 0xFF] {
                    self = .bytes(red: 2, green: 1, blue: 0)
                } else if bitCount == 32, let layout = Self.byteMasks(masks + [0]) {
                    self = layout
                } else {
                    let spelled = masks.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
                    throw DecodeError("unsupported BMP bitfields layout (\(bitCount) bits, masks \(spelled))")
                }
            default:
                throw DecodeError("unsupported BMP variant: \(bitCount) bits per pixel, compression \(compression)")
            }
        }

        /// The 32-bit mask sets Pillow accepts: each channel a whole byte, alpha known.
        private static func byteMasks(_ masks: [UInt32]) -> PixelLayout? {
            let rgba = Array(masks.prefix(4))
            let accepted: [[UInt32]] = [
                [0xFF0000, 0xFF00, 0xFF, 0], [0xFF00_0000, 0xFF0000, 0xFF00, 0], [0xFF00_0000, 0xFF00, 0xFF, 0],
                [0xFF00_0000, 0xFF0000, 0xFF00, 0xFF], [0xFF, 0xFF00, 0xFF0000, 0xFF00_0000],
                [0xFF0000, 0xFF00, 0xFF, 0xFF00_0000], [0xFF00_0000, 0xFF00, 0xFF, 0xFF0000], [0, 0, 0, 0],
            ]
            guard accepted.contains(rgba) else { return nil }
            if rgba == [0, 0, 0, 0] { return .bytes(red: 2, green: 1, blue: 0) }
            func byte(_ mask: UInt32) -> Int { mask.trailingZeroBitCount / 8 }
            return .bytes(red: byte(rgba[0]), green: byte(rgba[1]), blue: byte(rgba[2]))
        }
    }
}
