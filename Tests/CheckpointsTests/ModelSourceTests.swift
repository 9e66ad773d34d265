import Checkpoints
import Foundation
import Testing
import TestSupport

/// Hugging Face folders as `save_pretrained` lays them out, built by hand here: the facts
/// read from their JSON, shards merged by their index, and one clear line for each way a
/// folder can be broken.
struct ModelSourceTests {
    /// A safetensors file holding each of `names` = [1, 2] as float32.
    static func shard(_ names: String...) -> [UInt8] {
        let data: [Float] = [1, 2]
        let bytes = data.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        let entries = names.enumerated().map { i, name in
            #""\#(name)":{"dtype":"F32","shape":[2],"data_offsets":[\#(8 * i),\#(8 * i + 8)]}"#
        }
        return HandBuiltFiles.safetensors("{" + entries.joined(separator: ",") + "}",
                                          data: Array(repeating: bytes, count: names.count).flatMap { $0 })
    }

    static func folder(_ files: [String: [UInt8]]) throws -> String {
        let directory = try Fixtures.temporaryDirectory()
        for (name, bytes) in files { try Data(bytes).write(to: directory.appendingPathComponent(name)) }
        return directory.path
    }

    static let config = Array(#"""
        {"architectures": ["ViTForImageClassification"], "model_type": "vit", "num_attention_heads": 3,
         "layer_norm_eps": 1e-12, "qkv_bias": true, "id2label": {"0": "apple", "1": "banana"}}
        """#.utf8)
    static let preprocessor = Array(#"{"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}"#.utf8)

    @Test func aFolderYieldsItsTensorsAndFacts() throws {
        let path = try Self.folder(["config.json": Self.config, "preprocessor_config.json": Self.preprocessor,
                                    "model.safetensors": Self.shard("a")])
        let source = try ModelSource.open(path: path)
        #expect(source.checkpoint.names == ["a"])
        #expect(source.facts.configInt("num_attention_heads")?.value == 3)
        #expect(source.facts.configInt("num_attention_heads")?.origin == "config.json num_attention_heads")
        #expect(source.facts.configDouble("layer_norm_eps")?.value == 1e-12)
        #expect(source.facts.configBool("qkv_bias")?.value == true)
        #expect(source.facts.architectures == ["ViTForImageClassification"])
        #expect(source.facts.labels?.value == ["apple", "banana"])
        let normalization = try #require(source.facts.normalization)
        #expect(normalization.value.mean == [0.5, 0.5, 0.5] && normalization.value.std == [0.5, 0.5, 0.5])
        #expect(normalization.origin.hasPrefix("preprocessor_config.json"))
        // The weights file named directly finds the config beside it.
        let direct = try ModelSource.open(path: path + "/model.safetensors")
        #expect(direct.facts.configInt("num_attention_heads")?.value == 3)
    }

    @Test func shardsAreMergedByTheirIndex() throws {
        let index = Array(#"{"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#.utf8)
        let path = try Self.folder(["config.json": Self.config, "model.safetensors.index.json": index,
                                    "model-00001-of-00002.safetensors": Self.shard("a"),
                                    "model-00002-of-00002.safetensors": Self.shard("b")])
        let source = try ModelSource.open(path: path)
        #expect(Set(source.checkpoint.names) == ["a", "b"])
        #expect(source.checkpoint["b"]?.floats() == [1, 2])
        #expect(source.files.count == 4)
    }

    static func failure(_ files: [String: [UInt8]]) throws -> String {
        let path = try folder(files)
        do {
            _ = try ModelSource.open(path: path)
        } catch let error as CheckpointError {
            #expect(!error.description.contains("\n"))
            return error.description
        }
        Issue.record("a broken folder was accepted")
        return ""
    }

    @Test func brokenFoldersGiveOneLineEach() throws {
        #expect(try Self.failure(["model.safetensors": Self.shard("a")]).contains("needs its config.json"))
        #expect(try Self.failure(["config.json": Array("{not json".utf8), "model.safetensors": Self.shard("a")])
            .contains("config.json: not valid JSON"))
        #expect(try Self.failure(["config.json": Self.config]).contains("a folder without model weights"))
        let missing = Array(#"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#.utf8)
        #expect(try Self.failure(["config.json": Self.config, "model.safetensors.index.json": missing,
                                  "model-00001-of-00002.safetensors": Self.shard("a")])
            .contains("shard 'model-00002-of-00002.safetensors' is missing"))
        let outside = Array(#"{"weight_map": {"a": "../elsewhere.safetensors"}}"#.utf8)
        #expect(try Self.failure(["config.json": Self.config, "model.safetensors.index.json": outside])
            .contains("a file outside the folder"))
        let misplaced = Array(#"{"weight_map": {"a": "one.safetensors", "b": "one.safetensors"}}"#.utf8)
        #expect(try Self.failure(["config.json": Self.config, "model.safetensors.index.json": misplaced,
                                  "one.safetensors": Self.shard("a")])
            .contains("the index puts 'b' in this shard"))
        let twice = Array(#"{"weight_map": {"a": "one.safetensors", "c": "two.safetensors"}}"#.utf8)
        #expect(try Self.failure(["config.json": Self.config, "model.safetensors.index.json": twice,
                                  "one.safetensors": Self.shard("a"), "two.safetensors": Self.shard("a", "c")])
            .contains("in two shards"))
    }

    @Test func aMissingPathIsNamed() {
        #expect(throws: CheckpointError(path: "/nonexistent/model", problem: "no such file or folder")) {
            try ModelSource.open(path: "/nonexistent/model")
        }
    }
}
