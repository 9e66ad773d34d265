import Checkpoints
import Foundation
import Testing
import TestSupport

/// Every dtype in every format, against values PyTorch wrote (Tools/make_fixtures.py).
struct CheckpointFormatTests {
    let expected = try! Fixtures.json("checkpoints/expected.json")

    @Test(arguments: [
        ("dtypes.safetensors", Checkpoint.Format.safetensors),
        ("dtypes.pt", .pytorchZip),
        ("dtypes_legacy.pt", .pytorchLegacy),
        ("pytorch_model.bin", .pytorchZip),
        ("dtypes_prefixed.pth", .pytorchZip),
    ])
    func everyDTypeReadsExactly(file: String, format: Checkpoint.Format) throws {
        let checkpoint = try Checkpoint.open(path: Fixtures.path("checkpoints/" + file))
        #expect(checkpoint.format == format)
        #expect(checkpoint.weightsEntry == nil)
        let tensors = expected["dtypes"] as! [String: Any]
        #expect(Set(checkpoint.names) == Set(tensors.keys))
        for (name, description) in tensors {
            expectTensor(checkpoint[name], matches: description, name: name)
        }
    }

    @Test func safetensorsMetadataAndZeroCopy() throws {
        let path = Fixtures.path("checkpoints/dtypes.safetensors")
        let checkpoint = try Checkpoint.open(path: path)
        #expect(checkpoint.metadata["format"] == "pt")
        #expect(checkpoint.metadata["source"] == "make_fixtures.py")
        // The tensor's bytes are a slice of the mapped file, not a copy.
        let tensor = try #require(checkpoint["f32"])
        #expect(tensor.storage.file.path == path)
        #expect(tensor.storage.count == 6 * 4)
    }

    @Test(arguments: ["views.pt", "views_legacy.pt"])
    func viewsAndSharedStoragesAreMadeContiguous(file: String) throws {
        let checkpoint = try Checkpoint.open(path: Fixtures.path("checkpoints/" + file))
        let views = expected["views"] as! [String: Any]
        for (name, description) in views {
            expectTensor(checkpoint[name], matches: description, name: name)
        }
        let base = try #require(checkpoint["base"])
        let shared = try #require(checkpoint["shared_flat"])
        let transposed = try #require(checkpoint["transposed"])
        // Views of one storage point into the same bytes of the file.
        #expect(base.storage.offset == shared.storage.offset)
        #expect(base.storage.offset == transposed.storage.offset)
        #expect(!transposed.isContiguous)
        #expect(try #require(checkpoint["sliced"]).elementOffset == 8)
        #expect(try #require(checkpoint["expanded"]).strides == [0, 1])
    }

    @Test(arguments: ["timm_train.pth.tar", "timm_train_legacy.pth.tar"])
    func timmTrainingContainerPrefersEMAAndKeepsArgs(file: String) throws {
        let checkpoint = try Checkpoint.open(path: Fixtures.path("checkpoints/" + file))
        let container = expected["timm_train"] as! [String: Any]
        #expect(checkpoint.weightsEntry == "state_dict_ema")
        let tensors = container["tensors"] as! [String: Any]
        #expect(checkpoint.names.count == tensors.count)
        for (name, description) in tensors {
            expectTensor(checkpoint[name], matches: description, name: name)
        }
        #expect(checkpoint.otherEntries.map(\.key) == container["others"] as! [String])
        let args = try #require(checkpoint.otherEntries.first { $0.key == "args" }?.value)
        guard case .object(let namespace) = args else {
            Issue.record("args is not a record: \(args)")
            return
        }
        #expect(namespace.qualifiedName == "argparse.Namespace")
        let attributes = try #require(namespace.attributes)
        #expect(attributes["model"]?.stringValue == "vit_small_patch16_224")
        if case .float(let gamma)? = attributes["gamma"] { #expect(gamma == 1.25) } else { Issue.record("gamma") }
        #expect(attributes["epochs"]?.intValue == 100)
        if case .bool(false)? = attributes["pretrained"] {} else { Issue.record("pretrained") }
        if case .none? = attributes["name"] {} else { Issue.record("name") }
        if case .int(99)? = checkpoint.otherEntries.first(where: { $0.key == "epoch" })?.value {} else {
            Issue.record("epoch")
        }
    }

    @Test func dinoCheckpointUsesTheTeacher() throws {
        let checkpoint = try Checkpoint.open(path: Fixtures.path("checkpoints/dino.pth"))
        let container = expected["dino"] as! [String: Any]
        #expect(checkpoint.weightsEntry == "teacher")
        for (name, description) in container["tensors"] as! [String: Any] {
            expectTensor(checkpoint[name], matches: description, name: name)
        }
    }

    @Test func nestedListFindsTheFirstDictOfTensors() throws {
        let checkpoint = try Checkpoint.open(path: Fixtures.path("checkpoints/nested_list.pt"))
        let container = expected["nested_list"] as! [String: Any]
        #expect(checkpoint.weightsEntry == container["entry"] as? String)
        #expect(checkpoint.names == container["names"] as! [String])
        #expect(checkpoint["weight"]?.floats() == [1, 1, 1, 1])
    }
}
