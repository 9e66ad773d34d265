import Foundation
import Testing
import TestSupport

/// `simpool-explorer inspect` through the real binary.
struct InspectCommandTests {
    @Test func textReportNamesEntryArgsAndShapes() throws {
        let result = try CommandRunner.run(["inspect", Fixtures.path("checkpoints/timm_train.pth.tar")])
        #expect(result.status == 0)
        #expect(result.standardError.isEmpty)
        let text = result.standardOutput
        #expect(text.contains("format:      pytorch-zip"))
        #expect(text.contains("weights:     entry 'state_dict_ema'"))
        #expect(text.contains("tensors:     8"))
        #expect(text.contains("Namespace(model='vit_small_patch16_224', gamma=1.25"))
        #expect(text.contains("epoch:       99"))
        #expect(text.contains("blocks.0.attn.qkv.weight  float32   [24, 8]"))
    }

    @Test func jsonReportCountsParametersFromShapes() throws {
        let path = Fixtures.path("checkpoints/timm_train_legacy.pth.tar")
        let result = try CommandRunner.run(["inspect", "--json", path])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        let expected = (try Fixtures.json("checkpoints/expected.json")["timm_train"] as! [String: Any])["tensors"] as! [String: Any]
        let parameters = expected.values.reduce(0) { total, description in
            total + ((description as! [String: Any])["shape"] as! [Int]).reduce(1, *)
        }
        #expect(object["format"] as? String == "pytorch-legacy")
        #expect(object["weights_entry"] as? String == "state_dict_ema")
        #expect(object["tensor_count"] as? Int == expected.count)
        #expect(object["parameter_count"] as? Int == parameters)
        #expect((object["dtypes"] as? [String: Int]) == ["float32": expected.count])
        let tensors = object["tensors"] as! [[String: Any]]
        #expect(Set(tensors.map { $0["name"] as! String }) == Set(expected.keys))
    }

    @Test func badFilesGiveOneLineEachAndStatusOne() throws {
        let good = Fixtures.path("checkpoints/dtypes.safetensors")
        let hostile = Fixtures.path("checkpoints/hostile_os_system.pt")
        let result = try CommandRunner.run(["inspect", "/nonexistent.pt", hostile, good])
        #expect(result.status == 1)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "/nonexistent.pt: no such file or folder")
        #expect(lines.last?.hasPrefix(hostile + ": refused") == true)
        #expect(result.standardOutput.contains("format:      safetensors"), "the good file is still reported")
    }

    @Test func badUsageExitsTwo() throws {
        #expect(try CommandRunner.run(["inspect", "--keys", "many", "x.pt"]).status == 2)
        #expect(try CommandRunner.run(["--no-such-flag"]).status == 2)
        // A word that is no command is a path for the default command, browse.
        let missing = try CommandRunner.run(["no-such-image.png"])
        #expect(missing.status == 1)
        #expect(missing.standardError == "no-such-image.png: no such file\nno images to show\n")
        #expect(try CommandRunner.run(["--help"]).status == 0)
    }
}
