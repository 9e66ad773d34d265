import Foundation
import Testing
import TestSupport

/// Checkpoints as researchers hold them, through the real binary: a Hugging Face folder
/// given to `inspect` and `render`, `--num-heads`, and a file refused by name.
struct ModelSourceCommandTests {
    static let folder = Fixtures.path("layouts/hf_vit")

    @Test func inspectNamesTheFamilyAndWhereEachFactCameFrom() throws {
        let result = try CommandRunner.run(["inspect", Self.folder])
        #expect(result.status == 0, "\(result.standardError)")
        let text = result.standardOutput
        #expect(text.contains("family:      Hugging Face transformers ViT / DeiT / DINOv2"))
        #expect(text.contains("read:        \(Self.folder)/config.json, \(Self.folder)/model.safetensors"))
        #expect(text.contains("  - heads 3 (config.json num_attention_heads)"))
        #expect(text.contains("  - LayerNorm eps 1e-12 (config.json layer_norm_eps)"))
        #expect(text.contains("  - mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5] (preprocessor_config.json image_mean / image_std)"))
        #expect(text.contains("  - 5 class names (config.json id2label)"))
        #expect(text.contains("  - patch embedding [96, 3, 16, 16]: width 96, patch 16 (names)"))
    }

    @Test func numHeadsReachesTheModel() throws {
        let guessed = try CommandRunner.run(["inspect", Fixtures.path("layouts/dinov2_hub.pth")])
        #expect(guessed.standardOutput.contains("  - heads 2 (DINOv2's sizes all have heads of width 64)"))
        let overridden = try CommandRunner.run(["inspect", "--num-heads", "4", Fixtures.path("layouts/dinov2_hub.pth")])
        #expect(overridden.standardOutput.contains("  - heads 4 (--num-heads)"))
        let render = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--model", Self.folder,
                                            "--num-heads", "1", "--method", "cls", "--head", "1", "--color", "none",
                                            "--symbols", "ascii", "--width", "78"])
        #expect(render.status == 0, "\(render.standardError)")
        #expect(render.standardOutput.contains("head 1"))
        let bad = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--model", Self.folder, "--num-heads", "0"])
        #expect(bad.status == 2 && bad.standardError.contains("--num-heads must be a positive number"))
    }

    @Test func aFileThatWouldRunAsAnotherModelIsRefusedInOneLine() throws {
        let path = Fixtures.path("layouts/timm_qknorm.safetensors")
        let result = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--model", path])
        #expect(result.status == 1)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(result.standardError)")
        #expect(lines.first?.hasPrefix("\(path): refused: 4 tensors") == true)
        #expect(lines.first?.contains("qk-norm") == true)
        let inspect = try CommandRunner.run(["inspect", path])
        #expect(inspect.standardOutput.contains("architecture: unknown"))
        #expect(inspect.standardOutput.contains("q_norm"))
    }

    @Test func aBrokenFolderIsOneLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(atPath: Self.folder + "/model.safetensors", toPath: directory.path + "/model.safetensors")
        try Data("{\"num_attention_heads\": ".utf8).write(to: directory.appendingPathComponent("config.json"))
        let result = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--model", directory.path])
        #expect(result.status == 1)
        #expect(result.standardError == "\(directory.path)/config.json: not valid JSON (a JSON object was expected)\n")
    }
}

/// A crash is one line, not a runtime backtrace, unless the backtrace is asked for.
struct CrashReportTests {
    @Test func aFaultIsOneLineNamingTheCommand() throws {
        let result = try CommandRunner.run(["inspect", "some.pth"], environment: ["SIMPOOL_EXPLORER_FAULT_FOR_TEST": "1"])
        #expect(result.status != 0)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(result.standardError)")
        #expect(lines.first?.contains("internal error while running") == true && lines.first?.contains("inspect some.pth") == true)
        #expect(lines.first?.contains("SIMPOOL_EXPLORER_BACKTRACE=1") == true)
    }
}
