/// Byte-level builders for hand-made (often hostile) files: big- and little-endian
/// integers, PNG chunk CRCs, a safetensors container around any header.
public enum HandBuiltFiles {
    public static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    public static func le32(_ value: UInt32) -> [UInt8] { be32(value).reversed() }

    /// The CRC-32 PNG chunks carry (zlib's polynomial).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// An 8-byte little-endian header length, the JSON header, then the data.
    public static func safetensors(_ header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return (0..<8).map { UInt8((UInt64(json.count) >> (8 * $0)) & 0xFF) } + json + data
    }

    /// A PNG signature and IHDR chunk (CRC correct, no image data) declaring this size.
    public static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        let ihdr: [UInt8] = Array("IHDR".utf8) + be32(width) + be32(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be32(13) + ihdr + be32(crc32(ihdr))
    }
}
