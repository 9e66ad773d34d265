/// Bounds-checked little-endian reads for the decoders written here (BMP, netpbm).
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func u8(at offset: Int) throws -> UInt8 {
        guard offset >= 0, offset < bytes.count else { throw DecodeError("truncated file") }
        return bytes[offset]
    }

    func u16(at offset: Int) throws -> Int {
        Int(try u8(at: offset)) | Int(try u8(at: offset + 1)) << 8
    }

    func u32(at offset: Int) throws -> UInt32 {
        UInt32(try u16(at: offset)) | UInt32(try u16(at: offset + 2)) << 16
    }

    func i32(at offset: Int) throws -> Int { Int(Int32(bitPattern: try u32(at: offset))) }
}
