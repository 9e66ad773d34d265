import Foundation

/// PyTorch's default format since 1.6: a ZIP archive holding `<prefix>/data.pkl` (the
/// pickled object) and `<prefix>/data/<key>` (one raw little-endian storage per key).
enum TorchZipReader {
    static func read(_ file: MappedFile) throws -> PickleValue {
        let archive = try ZipArchive(file.bytes)
        guard let pickleName = archive.names.first(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }),
              let pickle = archive.entries[pickleName] else {
            if archive.names.contains(where: { $0.hasSuffix("constants.pkl") || $0.hasSuffix("code/") }) {
                throw FormatError("a TorchScript archive, not a state dict")
            }
            throw FormatError("ZIP archive without data.pkl: not a PyTorch checkpoint")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let order = archive.entries[prefix + "byteorder"] {
            let text = String(decoding: FileSlice(file: file, offset: order.dataOffset, count: order.size).bytes, as: UTF8.self)
            guard text.trimmingCharacters(in: .whitespacesAndNewlines) == "little" else {
                throw FormatError("big-endian checkpoint (byteorder '\(text)') is not supported")
            }
        }

        let machine = PickleMachine(
            bytes: FileSlice(file: file, offset: pickle.dataOffset, count: pickle.size).bytes,
            policy: PickleCallPolicy(),
            persistentLoad: { id in
                // ('storage', storage_type, key, location, numel)
                guard let fields = id.sequence, fields.count >= 5, fields[0].stringValue == "storage",
                      let key = fields[2].stringValue else {
                    throw FormatError("corrupt pickle: unexpected persistent id")
                }
                let dtype = try storageType(fields[1])
                guard let entry = archive.entries[prefix + "data/" + key] else {
                    throw FormatError("storage '\(key)' is missing from the archive")
                }
                if case .bigInt = fields[4] { throw FormatError("storage '\(key)' declares an element count too large for any file") }
                if let declared = fields[4].intValue,
                   try CheckedSize.product(declared, dtype.byteSize, field: "storage '\(key)' element count") > entry.size {
                    throw FormatError("storage '\(key)' declares \(declared) elements but holds \(entry.size / dtype.byteSize)")
                }
                return .storage(PickleStorage(dtype: dtype, slice: FileSlice(file: file, offset: entry.dataOffset, count: entry.size)))
            })
        return try machine.run().value
    }

    /// The dtype named by a pickled storage class such as `torch.FloatStorage`.
    static func storageType(_ value: PickleValue) throws -> ScalarType {
        guard case .global(let module, let name) = value else {
            throw FormatError("corrupt pickle: storage type is not a class name")
        }
        guard module == "torch", let dtype = ScalarType(torchStorageName: name) else {
            throw FormatError("unsupported storage type \(module).\(name)")
        }
        return dtype
    }
}
