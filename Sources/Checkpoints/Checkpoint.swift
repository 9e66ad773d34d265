/// A weights file opened for reading: its tensors by name, where in the file's container
/// they were found, and the other entries that came with them (training `args`, epoch …).
public struct Checkpoint: Sendable {
    public enum Format: String, Sendable {
        case safetensors
        case pytorchZip = "pytorch-zip"
        case pytorchLegacy = "pytorch-legacy"
    }

    public let path: String
    public let format: Format
    /// The container entry that held the weights (`state_dict_ema`, `teacher` …), or nil
    /// when the file's top level is the state dict itself.
    public let weightsEntry: String?
    /// Tensors in the order the file lists them.
    public let tensors: [WeightTensor]
    /// Top-level entries other than the weights, for `inspect`.
    public let otherEntries: [(key: String, value: PickleValue)]
    /// The safetensors `__metadata__` strings.
    public let metadata: [String: String]
    /// Non-tensor values found inside the weights container (skipped).
    public let skippedEntries: [String]

    private let index: [String: Int]

    public subscript(name: String) -> WeightTensor? {
        index[name].map { tensors[$0] }
    }

    public var names: [String] { tensors.map(\.name) }

    /// Opens a checkpoint, recognising the format by its first bytes (not its extension).
    /// Every failure is a `CheckpointError` naming the file and the problem in one line.
    public static func open(path: String) throws -> Checkpoint {
        let file = try MappedFile(path: path)
        do {
            let bytes = file.bytes
            if bytes.count == 0 {
                throw FormatError("empty file")
            }
            if ZipArchive.looksLikeZip(bytes) {
                let root = try TorchZipReader.read(file)
                return try Checkpoint(path: path, format: .pytorchZip, root: root)
            }
            if TorchLegacyReader.looksLikeLegacy(bytes) {
                let root = try TorchLegacyReader.read(file)
                return try Checkpoint(path: path, format: .pytorchLegacy, root: root)
            }
            if SafetensorsReader.looksLikeSafetensors(bytes) {
                let (tensors, metadata) = try SafetensorsReader.read(file)
                return Checkpoint(path: path, format: .safetensors, weightsEntry: nil, tensors: tensors,
                                  otherEntries: [], metadata: metadata, skippedEntries: [])
            }
            if bytes.count >= 2, bytes[0] == 0x80 {
                throw FormatError("a bare pickle without PyTorch's header: not a checkpoint this program reads")
            }
            if bytes.count >= 262, bytes[257..<262].elementsEqual("ustar".utf8) {
                throw FormatError("a tar-format PyTorch checkpoint (PyTorch < 0.4) is not supported; re-save it with a current PyTorch")
            }
            throw FormatError("unrecognised format (not safetensors, PyTorch ZIP or legacy PyTorch)")
        } catch let error as FormatError {
            throw CheckpointError(path: path, problem: error.message)
        }
    }

    private init(path: String, format: Format, weightsEntry: String?, tensors: [WeightTensor],
                 otherEntries: [(key: String, value: PickleValue)], metadata: [String: String],
                 skippedEntries: [String]) {
        self.path = path
        self.format = format
        self.weightsEntry = weightsEntry
        self.tensors = tensors
        self.otherEntries = otherEntries
        self.metadata = metadata
        self.skippedEntries = skippedEntries
        var index: [String: Int] = [:]
        for (i, tensor) in tensors.enumerated() where index[tensor.name] == nil { index[tensor.name] = i }
        self.index = index
    }

    /// The shards of one sharded checkpoint as one. A name in two shards is refused: which
    /// copy a loader takes would then depend on the order it reads them.
    public init(merging shards: [Checkpoint], path: String) throws {
        guard let first = shards.first else { throw CheckpointError(path: path, problem: "no shards") }
        var seen: [String: String] = [:]
        var tensors: [WeightTensor] = []
        var metadata: [String: String] = [:]
        for shard in shards {
            for tensor in shard.tensors {
                if let other = seen[tensor.name] {
                    throw CheckpointError(path: path, problem: "tensor '\(tensor.name)' is in two shards (\(other) and \(shard.path))")
                }
                seen[tensor.name] = shard.path
                tensors.append(tensor)
            }
            metadata.merge(shard.metadata) { old, _ in old }
        }
        self.init(path: path, format: first.format, weightsEntry: first.weightsEntry, tensors: tensors,
                  otherEntries: first.otherEntries, metadata: metadata, skippedEntries: shards.flatMap(\.skippedEntries))
    }

    /// Finds the weights inside an unpickled object and flattens them to names.
    private init(path: String, format: Format, root: PickleValue) throws {
        let located = ContainerSearch.locateWeights(in: root)
        guard let located else {
            throw FormatError("no tensors found in the checkpoint")
        }
        var tensors: [WeightTensor] = []
        var skipped: [String] = []
        var budget = ContainerSearch.visitBudget
        ContainerSearch.flatten(located.value, prefix: "", into: &tensors, skipped: &skipped, budget: &budget)
        var others: [(key: String, value: PickleValue)] = []
        if located.entry != nil, let dict = root.dictValue {
            for pair in dict.pairs {
                let key = ContainerSearch.keyText(pair.key)
                if key != located.entry { others.append((key, pair.value)) }
            }
        }
        self.init(path: path, format: format, weightsEntry: located.entry, tensors: tensors,
                  otherEntries: others, metadata: [:], skippedEntries: skipped)
    }
}
