/// A bounds-checked little-endian cursor over bytes. Every read that would run past the
/// end throws instead of trapping, because the bytes come from files we do not trust.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position >= bytes.count }

    mutating func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw FormatError("truncated: \(what()) runs past the end of the data")
        }
    }

    mutating func readByte() throws -> UInt8 {
        try require(1, "a byte")
        defer { position += 1 }
        return bytes[position]
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try require(MemoryLayout<T>.size, "a \(MemoryLayout<T>.size)-byte integer")
        defer { position += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    }

    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        try require(count, "a \(count)-byte field")
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// Bytes up to (not including) the next newline, which is consumed.
    mutating func readLine() throws -> [UInt8] {
        var line: [UInt8] = []
        while true {
            let byte = try readByte()
            if byte == 0x0A { return line }
            line.append(byte)
        }
    }
}
