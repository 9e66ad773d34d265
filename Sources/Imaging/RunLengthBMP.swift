/// RLE4 and RLE8 pixel data, read as Pillow reads it: one stream of palette indices in
/// file-row order, where an end of line or a delta fills with index 0, an encoded run
/// stops at its row's end, and a literal run continues onto the next row. A stream that
/// ends (or says end of bitmap) before every pixel has a value is refused, as Pillow
/// refuses it, instead of showing the missing part in some colour.
enum RunLengthBMP {
    static func decode(_ bytes: UnsafeRawBufferPointer, from start: Int, fourBit: Bool,
                       width: Int, height: Int) throws -> [UInt8] {
        let total = width * height
        var indices = [UInt8]()
        indices.reserveCapacity(min(total, 1 << 24))
        var position = start
        var x = 0
        func read() -> Int? {
            guard position >= 0, position < bytes.count else { return nil }
            defer { position += 1 }
            return Int(bytes[position])
        }
        func fill(_ count: Int) {
            indices.append(contentsOf: repeatElement(0, count: min(count, total - indices.count)))
        }
        decoding: while indices.count < total {
            guard let count = read(), let value = read() else { break }
            if count > 0 {
                let pixels = x + count > width ? max(0, width - x) : count
                for i in 0..<pixels {
                    indices.append(UInt8(fourBit ? (i % 2 == 0 ? value >> 4 : value & 0x0F) : value))
                }
                if indices.count > total { indices.removeLast(indices.count - total) }
                x += pixels
                continue
            }
            switch value {
            case 0:
                fill((width - indices.count % width) % width)
                x = 0
            case 1:
                break decoding
            case 2:
                guard let right = read(), let down = read() else { break decoding }
                fill(right + down * width)
                x = indices.count % width
            default:
                let wanted = min(total - indices.count, value)
                let byteCount = fourBit ? (wanted + 1) / 2 : wanted
                var got = 0
                while got < byteCount, let byte = read() {
                    if fourBit {
                        indices.append(UInt8(byte >> 4))
                        if got * 2 + 1 < wanted { indices.append(UInt8(byte & 0x0F)) }
                    } else {
                        indices.append(UInt8(byte))
                    }
                    got += 1
                }
                if got < byteCount || indices.count == total { break decoding }
                x += value
                if position % 2 != 0 { position += 1 }   // word alignment, counted in the file
            }
        }
        guard indices.count == total else {
            throw DecodeError("truncated file: BMP run-length data ends after \(indices.count) of \(total) pixels")
        }
        return indices
    }
}
