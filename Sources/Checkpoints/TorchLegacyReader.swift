/// PyTorch's format before 1.6 (still written with `_use_new_zipfile_serialization=False`):
/// five pickles in a row — magic number, protocol version, system info, the object with
/// persistent storage ids, the sorted storage keys — then each storage as an int64 element
/// count followed by its raw bytes, in key order.
enum TorchLegacyReader {
    /// 0x1950a86a20f9469cfc6c, little-endian, as pickled by LONG1.
    static let magicNumber: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    static func looksLikeLegacy(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // PROTO n, LONG1 10, then the magic bytes.
        guard bytes.count >= 14, bytes[0] == 0x80, bytes[2] == 0x8A, bytes[3] == 10 else { return false }
        return (0..<10).allSatisfy { bytes[4 + $0] == magicNumber[$0] }
    }

    static func read(_ file: MappedFile) throws -> PickleValue {
        let policy = PickleCallPolicy()
        let plain = PickleMachine(bytes: file.bytes, policy: policy, persistentLoad: { _ in
            throw FormatError("corrupt legacy checkpoint: storage reference outside the object pickle")
        })
        let (magic, afterMagic) = try plain.run(from: 0)
        guard case .bigInt(let digits) = magic, digits == magicNumber else {
            throw FormatError("not a PyTorch legacy checkpoint (wrong magic number)")
        }
        let (version, afterVersion) = try plain.run(from: afterMagic)
        guard version.intValue == 1001 else {
            throw FormatError("unsupported legacy checkpoint protocol \(version.intValue.map(String.init) ?? "?")")
        }
        let (systemInfo, afterInfo) = try plain.run(from: afterVersion)
        if let info = systemInfo.dictValue, case .bool(let little)? = info["little_endian"], !little {
            throw FormatError("big-endian checkpoint is not supported")
        }

        // The object pickle refers to storages by key before their bytes are known, so it
        // is read twice: once to find where it ends (and the keys), then with storages bound.
        struct Reference {
            let dtype: ScalarType
            let key: String
            let view: (key: String, offset: Int, count: Int)?
        }
        var references: [Reference] = []
        let scan = PickleMachine(bytes: file.bytes, policy: policy, persistentLoad: { id in
            references.append(try parse(id))
            // A stand-in as large as the file: any view a real storage could hold fits it.
            return .storage(PickleStorage(dtype: .uint8, slice: FileSlice(file: file, offset: 0, count: file.count)))
        })
        let afterObject = try scan.run(from: afterInfo).end
        let (keysValue, afterKeys) = try plain.run(from: afterObject)
        guard let keys = keysValue.sequence?.compactMap(\.stringValue) else {
            throw FormatError("corrupt legacy checkpoint: storage key list missing")
        }

        // Storages follow in key order, each an element count then the bytes. The element
        // size is that of the storage's type, known from the object pickle's references.
        var dtypes: [String: ScalarType] = [:]
        for reference in references { dtypes[reference.key] = reference.dtype }
        var storages: [String: PickleStorage] = [:]
        var reader = ByteReader(file.bytes, position: afterKeys)
        for key in keys {
            guard let dtype = dtypes[key] else {
                throw FormatError("corrupt legacy checkpoint: storage '\(key)' has no type")
            }
            let count = try reader.read(Int64.self)
            let (bytes, overflow) = Int(clamping: count).multipliedReportingOverflow(by: dtype.byteSize)
            guard count >= 0, !overflow, bytes <= reader.remaining else {
                throw FormatError("storage '\(key)' runs past the end of the file (truncated?)")
            }
            storages[key] = PickleStorage(dtype: dtype, slice: FileSlice(file: file, offset: reader.position, count: bytes))
            reader.position += bytes
        }

        let bound = PickleMachine(bytes: file.bytes, policy: policy, persistentLoad: { id in
            let reference = try parse(id)
            guard let storage = storages[reference.key] else {
                throw FormatError("storage '\(reference.key)' is missing from the file")
            }
            if let view = reference.view {
                // Old files may pickle a storage view: a slice of a root storage.
                let start = try CheckedSize.product(view.offset, storage.dtype.byteSize, field: "storage view '\(view.key)' offset")
                let length = try CheckedSize.product(view.count, storage.dtype.byteSize, field: "storage view '\(view.key)' count")
                guard try CheckedSize.sum(start, length, field: "storage view '\(view.key)' extent") <= storage.slice.count else {
                    throw FormatError("storage view '\(view.key)' lies outside its storage")
                }
                return .storage(PickleStorage(dtype: storage.dtype, slice: FileSlice(
                    file: file, offset: storage.slice.offset + start, count: length)))
            }
            return .storage(storage)
        })
        return try bound.run(from: afterInfo).value

        func parse(_ id: PickleValue) throws -> Reference {
            // ('storage', storage_type, root_key, location, numel, view_metadata)
            guard let fields = id.sequence, fields.count >= 5, fields[0].stringValue == "storage",
                  let key = fields[2].stringValue else {
                throw FormatError("corrupt pickle: unexpected persistent id")
            }
            let dtype = try TorchZipReader.storageType(fields[1])
            var view: (String, Int, Int)?
            if fields.count >= 6, let metadata = fields[5].sequence, metadata.count == 3,
               let viewKey = metadata[0].stringValue, let offset = metadata[1].intValue,
               let count = metadata[2].intValue {
                view = (viewKey, offset, count)
            }
            return Reference(dtype: dtype, key: key, view: view)
        }
    }
}
