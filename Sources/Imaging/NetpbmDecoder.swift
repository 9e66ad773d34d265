/// Netpbm: PBM (P1/P4), PGM (P2/P5) and PPM (P3/P6), ASCII or binary, any maxval up to
/// 65535. Values are rescaled as Pillow does it: round(v / maxval · 255) in double
/// precision, halves to even (maxval 10, value 3 gives 76); a binary sample above maxval
/// is clamped, an ASCII one refused. One deliberate difference: Pillow opens a PGM with
/// maxval above 255 as 32-bit integers and its RGB conversion clips them to white, so the
/// picture would be lost; it is rescaled like a PPM instead.
enum NetpbmDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, maximumPixels: Int) throws -> PixelImage {
        let kind = bytes[1] - 0x30
        var position = 2

        func skipSpaceAndComments() {
            while position < bytes.count {
                let byte = bytes[position]
                if byte == 0x23 {                       // '#' to end of line
                    while position < bytes.count, bytes[position] != 0x0A { position += 1 }
                } else if byte == 0x20 || (0x09...0x0D).contains(byte) {
                    position += 1
                } else {
                    return
                }
            }
        }
        func number() throws -> Int {
            skipSpaceAndComments()
            var value = 0
            var digits = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - 0x30)
                guard value < 1 << 31 else { throw DecodeError("netpbm header number too large") }
                position += 1
                digits += 1
            }
            guard digits > 0 else {
                throw DecodeError(position >= bytes.count ? "truncated file: netpbm data ends early" : "corrupt netpbm header")
            }
            return value
        }

        let width = try number()
        let height = try number()
        try ImageDecoder.checkSize(width: width, height: height, maximumPixels: maximumPixels)
        let bitmap = kind == 1 || kind == 4
        let maxval = bitmap ? 1 : try number()
        guard (1...65535).contains(maxval) else { throw DecodeError("netpbm maxval \(maxval) out of range") }
        let channels = (kind == 3 || kind == 6) ? 3 : 1
        let samples = width * height * channels
        try checkLength(kind: kind, samples: samples, width: width, height: height,
                        maxval: maxval, available: bytes.count - position)
        var pixels = [UInt8](repeating: 0, count: samples)
        func scaled(_ value: Int) -> UInt8 {
            if bitmap { return value == 0 ? 255 : 0 }   // PBM: 1 is black
            if maxval == 255 { return UInt8(clamping: value) }
            return UInt8(min(255, (Double(value) / Double(maxval) * 255).rounded(.toNearestOrEven)))
        }

        switch kind {
        case 1, 2, 3:
            for i in 0..<samples {
                if kind == 1 {
                    skipSpaceAndComments()
                    guard position < bytes.count else { throw DecodeError("truncated file: netpbm data ends early") }
                    guard bytes[position] == 0x30 || bytes[position] == 0x31 else {
                        throw DecodeError("corrupt netpbm data: a bitmap pixel must be 0 or 1")
                    }
                    pixels[i] = scaled(Int(bytes[position] - 0x30))
                    position += 1
                } else {
                    let value = try number()
                    guard value <= maxval else {
                        throw DecodeError("corrupt netpbm data: value \(value) exceeds maxval \(maxval)")
                    }
                    pixels[i] = scaled(value)
                }
            }
        case 4:                                         // binary data: its length checked above
            position += 1
            let stride = (width + 7) / 8
            for y in 0..<height {
                for x in 0..<width {
                    let bit = (bytes[position + y * stride + x / 8] >> (7 - UInt8(x % 8))) & 1
                    pixels[y * width + x] = scaled(Int(bit))
                }
            }
        default:
            position += 1                               // exactly one whitespace byte
            let sampleBytes = maxval > 255 ? 2 : 1
            for i in 0..<samples {
                let at = position + i * sampleBytes
                let value = sampleBytes == 2 ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : Int(bytes[at])
                pixels[i] = scaled(value)
            }
        }
        return PixelImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// The fewest bytes that can hold the declared samples, checked before any pixel memory
    /// is taken: a few hundred bytes must not claim 9999×10000 pixels and cost 300 MB.
    private static func checkLength(kind: UInt8, samples: Int, width: Int, height: Int,
                                    maxval: Int, available: Int) throws {
        let needed: Int
        switch kind {
        case 1: needed = samples                            // one digit each, spaces optional
        case 2, 3: needed = 2 * samples - 1                 // a digit and a separator each
        case 4: needed = 1 + (width + 7) / 8 * height
        default: needed = 1 + samples * (maxval > 255 ? 2 : 1)
        }
        guard needed <= available else {
            throw DecodeError("truncated file: netpbm data ends early (\(width)×\(height) needs at least "
                              + "\(needed) bytes of pixel data, the file has \(max(0, available)))")
        }
    }
}
