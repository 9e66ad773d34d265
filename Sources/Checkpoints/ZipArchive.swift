/// The central directory of a ZIP archive, as PyTorch writes them: entries stored without
/// compression (ZIP64 when large). Entry data is located, never copied.
struct ZipArchive {
    struct Entry {
        let name: String
        let dataOffset: Int
        let size: Int
    }

    let entries: [String: Entry]
    let names: [String]

    static func looksLikeZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
    }

    init(_ bytes: UnsafeRawBufferPointer) throws {
        let endRecord = try ZipArchive.findEndOfCentralDirectory(bytes)
        var reader = ByteReader(bytes, position: endRecord + 10)
        var entryCount = Int(try reader.read(UInt16.self))
        var directorySize = Int(try reader.read(UInt32.self))
        var directoryOffset = Int(try reader.read(UInt32.self))

        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the end record points at the ZIP64 end record.
            guard endRecord >= 20 else { throw FormatError("ZIP64 locator missing") }
            var locator = ByteReader(bytes, position: endRecord - 20)
            guard try locator.read(UInt32.self) == 0x0706_4B50 else {
                throw FormatError("ZIP64 locator missing")
            }
            _ = try locator.read(UInt32.self)
            let record64 = try ZipArchive.checkedInt(try locator.read(UInt64.self), limit: bytes.count)
            var zip64 = ByteReader(bytes, position: record64)
            guard try zip64.read(UInt32.self) == 0x0606_4B50 else {
                throw FormatError("ZIP64 end record missing")
            }
            zip64.position += 8 + 2 + 2 + 4 + 4 + 8
            entryCount = try ZipArchive.checkedInt(try zip64.read(UInt64.self), limit: bytes.count)
            directorySize = try ZipArchive.checkedInt(try zip64.read(UInt64.self), limit: bytes.count)
            directoryOffset = try ZipArchive.checkedInt(try zip64.read(UInt64.self), limit: bytes.count)
        }
        guard directoryOffset + directorySize <= bytes.count else {
            throw FormatError("ZIP central directory runs past the end of the file")
        }

        var entries: [String: Entry] = [:]
        var names: [String] = []
        var directory = ByteReader(bytes, position: directoryOffset)
        for _ in 0..<entryCount {
            guard try directory.read(UInt32.self) == 0x0201_4B50 else {
                throw FormatError("corrupt ZIP central directory")
            }
            directory.position += 6
            let method = try directory.read(UInt16.self)
            directory.position += 8
            var compressedSize = UInt64(try directory.read(UInt32.self))
            var size = UInt64(try directory.read(UInt32.self))
            let nameLength = Int(try directory.read(UInt16.self))
            let extraLength = Int(try directory.read(UInt16.self))
            let commentLength = Int(try directory.read(UInt16.self))
            directory.position += 8
            var localOffset = UInt64(try directory.read(UInt32.self))
            let name = String(decoding: try directory.readBytes(nameLength), as: UTF8.self)
            var extra = ByteReader(try directory.readBytes(extraLength))
            _ = try directory.readBytes(commentLength)

            // ZIP64 extended information holds the fields that overflowed, in this order.
            while extra.remaining >= 4 {
                let tag = try extra.read(UInt16.self)
                let length = Int(try extra.read(UInt16.self))
                var field = ByteReader(try extra.readBytes(length))
                guard tag == 0x0001 else { continue }
                if size == 0xFFFF_FFFF { size = try field.read(UInt64.self) }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try field.read(UInt64.self) }
                if localOffset == 0xFFFF_FFFF { localOffset = try field.read(UInt64.self) }
            }

            guard method == 0 else {
                throw FormatError("ZIP entry '\(name)' is compressed (method \(method)); checkpoints store entries uncompressed")
            }
            guard compressedSize == size else {
                throw FormatError("ZIP entry '\(name)' has inconsistent sizes")
            }
            let local = try ZipArchive.checkedInt(localOffset, limit: bytes.count)
            var header = ByteReader(bytes, position: local)
            guard try header.read(UInt32.self) == 0x0403_4B50 else {
                throw FormatError("ZIP entry '\(name)' has no local header")
            }
            header.position = local + 26
            let localNameLength = Int(try header.read(UInt16.self))
            let localExtraLength = Int(try header.read(UInt16.self))
            let dataOffset = local + 30 + localNameLength + localExtraLength
            let byteCount = try ZipArchive.checkedInt(size, limit: bytes.count)
            guard dataOffset + byteCount <= bytes.count else {
                throw FormatError("ZIP entry '\(name)' runs past the end of the file (truncated?)")
            }
            // Two entries of one name: which one a loader reads would depend on the loader.
            guard entries[name] == nil else { throw FormatError("ZIP entry '\(name)' appears twice; refusing an ambiguous archive") }
            names.append(name)
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: byteCount)
        }
        self.entries = entries
        self.names = names
    }

    private static func checkedInt(_ value: UInt64, limit: Int) throws -> Int {
        guard value <= UInt64(limit) else {
            throw FormatError("ZIP field \(value) points past the end of the file (truncated?)")
        }
        return Int(value)
    }

    /// The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
    private static func findEndOfCentralDirectory(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        guard bytes.count >= 22 else { throw FormatError("truncated ZIP archive") }
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var position = bytes.count - 22
        while position >= lowest {
            if bytes[position] == 0x50, bytes[position + 1] == 0x4B,
               bytes[position + 2] == 0x05, bytes[position + 3] == 0x06 {
                return position
            }
            position -= 1
        }
        throw FormatError("truncated ZIP archive: no end-of-central-directory record")
    }
}
