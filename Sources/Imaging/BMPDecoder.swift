/// Windows BMP: 1/4/8-bit palettes (plain, RLE4, RLE8), 16/24/32-bit (plain or with
/// channel bit masks), bottom-up or top-down. Written here because no system library
/// reads it; behaviour follows PIL's reader (alpha only from explicit masks).
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

        // Channel masks: after a 40-byte header for BITFIELDS, inside larger headers.
        var masks: [UInt32]?
        if compression == 3 || compression == 6 {
            let base = 14 + 40
            let count = compression == 6 || headerSize >= 56 ? 4 : 3
            masks = try (0..<count).map { try cursor.u32(at: base + $0 * 4) }
        } else if bitCount == 16 {
            masks = [0x7C00, 0x03E0, 0x001F]
        }

        var palette: [(UInt8, UInt8, UInt8)] = []
        if bitCount <= 8 {
            let entries = paletteCount == 0 ? 1 << bitCount : min(paletteCount, 1 << bitCount)
            let paletteStart = 14 + headerSize + (compression == 3 && headerSize == 40 ? 12 : 0)
            for i in 0..<entries {
                let at = paletteStart + i * paletteEntrySize
                palette.append((try cursor.u8(at: at + 2), try cursor.u8(at: at + 1), try cursor.u8(at: at)))
            }
        }

        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        func setPixel(_ x: Int, _ fileRow: Int, _ color: (UInt8, UInt8, UInt8)) {
            let y = topDown ? fileRow : height - 1 - fileRow
            guard x < width, y >= 0, y < height else { return }
            let at = (y * width + x) * 3
            rgb[at] = color.0
            rgb[at + 1] = color.1
            rgb[at + 2] = color.2
        }
        func paletteColor(_ index: Int) -> (UInt8, UInt8, UInt8) {
            index < palette.count ? palette[index] : (0, 0, 0)
        }

        switch (compression, bitCount) {
        case (1, 8), (2, 4):
            try decodeRLE(cursor, from: pixelOffset, fourBit: bitCount == 4, width: width, height: height) { x, row, index in
                setPixel(x, row, paletteColor(index))
            }
        case (0, 1), (0, 4), (0, 8):
            let stride = ((width * bitCount + 31) / 32) * 4
            guard pixelOffset + stride * height <= bytes.count else {
                throw DecodeError("truncated file: BMP pixel data ends early")
            }
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
        case (0, 24):
            let stride = ((width * 24 + 31) / 32) * 4
            guard pixelOffset + stride * height <= bytes.count else {
                throw DecodeError("truncated file: BMP pixel data ends early")
            }
            for row in 0..<height {
                let rowStart = pixelOffset + row * stride
                for x in 0..<width {
                    let at = rowStart + x * 3
                    setPixel(x, row, (bytes[at + 2], bytes[at + 1], bytes[at]))
                }
            }
        case (0, 32), (0, 16), (3, 16), (3, 32), (6, 16), (6, 32):
            let channelMasks = masks ?? [0x00FF_0000, 0x0000_FF00, 0x0000_00FF]
            let stride = ((width * bitCount + 31) / 32) * 4
            guard pixelOffset + stride * height <= bytes.count else {
                throw DecodeError("truncated file: BMP pixel data ends early")
            }
            let extractors = channelMasks.prefix(3).map(MaskExtractor.init)
            for row in 0..<height {
                let rowStart = pixelOffset + row * stride
                for x in 0..<width {
                    let at = rowStart + x * (bitCount / 8)
                    let value = bitCount == 16 ? UInt32(try cursor.u16(at: at)) : try cursor.u32(at: at)
                    setPixel(x, row, (extractors[0].value(value), extractors[1].value(value), extractors[2].value(value)))
                }
            }
        default:
            throw DecodeError("unsupported BMP variant: \(bitCount) bits per pixel, compression \(compression)")
        }
        return PixelImage(width: width, height: height, channels: 3, pixels: rgb)
    }

    /// Run-length encoded 4- and 8-bit BMPs: (count, index) pairs and escapes for end of
    /// line, end of bitmap, delta moves and literal runs.
    private static func decodeRLE(_ cursor: ByteCursor, from start: Int, fourBit: Bool, width: Int, height: Int,
                                  set: (Int, Int, Int) -> Void) throws {
        var position = start
        var x = 0, row = 0
        func next() throws -> Int {
            defer { position += 1 }
            return Int(try cursor.u8(at: position))
        }
        while row < height {
            let count = try next()
            let value = try next()
            if count > 0 {
                for i in 0..<count {
                    let index = fourBit ? (i % 2 == 0 ? value >> 4 : value & 0x0F) : value
                    set(x, row, index)
                    x += 1
                }
                continue
            }
            switch value {
            case 0: x = 0; row += 1
            case 1: return
            case 2: x += try next(); row += try next()
            default:
                var literal = 0
                var current = 0
                while literal < value {
                    if fourBit {
                        if literal % 2 == 0 { current = try next() }
                        set(x, row, literal % 2 == 0 ? current >> 4 : current & 0x0F)
                    } else {
                        set(x, row, try next())
                    }
                    x += 1
                    literal += 1
                }
                let used = fourBit ? (value + 1) / 2 : value
                if used % 2 == 1 { position += 1 }
            }
            if x > width * 2 + 2 { throw DecodeError("corrupt BMP run-length data") }
        }
    }
}

/// Pulls one channel out of a packed pixel and widens it to 8 bits by bit replication
/// (a 5-bit 31 becomes 255), as PIL does.
private struct MaskExtractor {
    let mask: UInt32
    let shift: UInt32
    let bits: UInt32

    init(_ mask: UInt32) {
        self.mask = mask
        shift = mask == 0 ? 0 : UInt32(mask.trailingZeroBitCount)
        bits = UInt32((mask >> shift).nonzeroBitCount)
    }

    func value(_ pixel: UInt32) -> UInt8 {
        guard bits > 0 else { return 0 }
        let v = (pixel & mask) >> shift
        if bits >= 8 { return UInt8(truncatingIfNeeded: v >> (bits - 8)) }
        var result: UInt32 = 0
        var filled: UInt32 = 0
        while filled < 8 {
            result = (result << bits) | v
            filled += bits
        }
        return UInt8(truncatingIfNeeded: result >> (filled - 8))
    }
}
