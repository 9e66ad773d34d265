import Foundation

/// Where a model comes from: one weights file, or a folder as Hugging Face writes it
/// (`config.json` beside `model.safetensors`, shards with an index, or `pytorch_model.bin`,
/// and `preprocessor_config.json`). Either way it yields the tensors and the facts that
/// came with them. A weights file inside such a folder brings the folder's config along.
public struct ModelSource: Sendable {
    /// The path the user named (file or folder).
    public let path: String
    /// The weights, merged across shards.
    public let checkpoint: Checkpoint
    public let facts: SourceFacts
    /// The files read, in order (config first), for `inspect`.
    public let files: [String]

    /// The weight files a folder may hold, in the order they are looked for.
    static let weightFiles = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                              "pytorch_model.bin.index.json", "open_clip_model.safetensors", "open_clip_pytorch_model.bin"]

    /// The config files a folder may hold: transformers' and timm's, or OpenCLIP's.
    static let configFiles = ["config.json", "open_clip_config.json"]

    /// The folder's config file, if it has one.
    static func configFile(in folder: String) -> String? {
        configFiles.map { folder + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    public static func open(path: String) throws -> ModelSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError(path: path, problem: "no such file or folder")
        }
        if isDirectory.boolValue { return try openFolder(path) }
        let folder = (path as NSString).deletingLastPathComponent
        if path.hasSuffix(".index.json") { return try openShards(index: path, folder: folder.isEmpty ? "." : folder) }
        let checkpoint = try Checkpoint.open(path: path)
        var facts = SourceFacts(checkpoint: checkpoint)
        var files = [path]
        if let configPath = configFile(in: folder.isEmpty ? "." : folder) {
            facts.config = try readJSON(configPath)
            facts.preprocessor = try readOptionalJSON((folder.isEmpty ? "." : folder) + "/preprocessor_config.json")
            files.insert(configPath, at: 0)
        }
        return ModelSource(path: path, checkpoint: checkpoint, facts: facts, files: files)
    }

    static func openFolder(_ folder: String) throws -> ModelSource {
        let fileManager = FileManager.default
        guard let weights = weightFiles.first(where: { fileManager.fileExists(atPath: folder + "/" + $0) }) else {
            throw CheckpointError(path: folder, problem: "a folder without model weights (looked for \(weightFiles.prefix(3).joined(separator: ", ")))")
        }
        guard configFile(in: folder) != nil else {
            throw CheckpointError(path: folder, problem: "a model folder needs its config.json (none found beside \(weights))")
        }
        if weights.hasSuffix(".index.json") { return try openShards(index: folder + "/" + weights, folder: folder, userPath: folder) }
        let source = try open(path: folder + "/" + weights)
        return ModelSource(path: folder, checkpoint: source.checkpoint, facts: source.facts, files: source.files)
    }

    /// A sharded checkpoint: `weight_map` in the index names the shard of every tensor.
    /// Each shard must sit in the folder itself and hold exactly the tensors the index gives it.
    static func openShards(index: String, folder: String, userPath: String? = nil) throws -> ModelSource {
        let document = try readJSON(index)
        guard let map = document["weight_map"]?.object, !map.isEmpty else {
            throw CheckpointError(path: index, problem: "index has no weight_map")
        }
        var shardNames: [String] = []
        var expected: [String: Set<String>] = [:]
        for (tensor, value) in map.sorted(by: { $0.key < $1.key }) {
            guard let shard = value.string else { throw CheckpointError(path: index, problem: "weight_map entry '\(tensor)' is not a file name") }
            guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw CheckpointError(path: index, problem: "weight_map names '\(shard)', a file outside the folder")
            }
            if expected[shard] == nil { shardNames.append(shard) }
            expected[shard, default: []].insert(tensor)
        }
        shardNames.sort()
        var shards: [Checkpoint] = []
        for name in shardNames {
            let shardPath = folder + "/" + name
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw CheckpointError(path: index, problem: "shard '\(name)' is missing")
            }
            let shard = try Checkpoint.open(path: shardPath)
            let held = Set(shard.names)
            if let absent = expected[name]!.subtracting(held).sorted().first {
                throw CheckpointError(path: shardPath, problem: "the index puts '\(absent)' in this shard, which does not hold it")
            }
            shards.append(shard)
        }
        let checkpoint = try Checkpoint(merging: shards, path: userPath ?? index)
        var facts = SourceFacts(metadata: checkpoint.metadata)
        var files = [index] + shardNames.map { folder + "/" + $0 }
        if let configPath = configFile(in: folder) {
            facts.config = try readJSON(configPath)
            facts.preprocessor = try readOptionalJSON(folder + "/preprocessor_config.json")
            files.insert(configPath, at: 0)
        }
        return ModelSource(path: userPath ?? index, checkpoint: checkpoint, facts: facts, files: files)
    }

    /// Config files are small; a large one is not a config.
    static let maximumJSONBytes = 16 << 20

    static func readJSON(_ path: String) throws -> JSONValue {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CheckpointError(path: path, problem: "cannot be read")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumJSONBytes + 1)) ?? Data()
        guard data.count <= maximumJSONBytes else {
            throw CheckpointError(path: path, problem: "larger than \(maximumJSONBytes >> 20) MiB: not a config file")
        }
        guard let value = JSONValue.parse(data), value.object != nil else {
            throw CheckpointError(path: path, problem: "not valid JSON (a JSON object was expected)")
        }
        return value
    }

    static func readOptionalJSON(_ path: String) throws -> JSONValue? {
        FileManager.default.fileExists(atPath: path) ? try readJSON(path) : nil
    }
}
