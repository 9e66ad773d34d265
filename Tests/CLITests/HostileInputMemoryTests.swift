import Foundation
import Imaging
import Testing
import TestSupport

/// Hostile files through the real binary, one process each: every one ends in one line on
/// stderr and a failure status, and none makes the process take more memory than reading a
/// small real file does (the declared sizes are refused before anything is allocated).
struct HostileInputMemoryTests {
    /// Peak memory of the program starting, reading a checkpoint and failing is about
    /// 30–60 MB; a declared 10¹² elements or 10¹⁰ pixels must not move it.
    static let boundMegabytes = 150.0

    @Test func hugeDeclaredCheckpointsAreRefusedCheaply() throws {
        let cases: [(String, [UInt8], String)] = [
            ("shape.safetensors", HandBuiltFiles.safetensors(#"{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "needs"),
            ("offsets.safetensors", HandBuiltFiles.safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4000000000000]}}"#, data: [0, 0, 0, 0]), "past the end"),
            ("header.safetensors", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0] + Array("{}".utf8), "limit"),
        ]
        for (name, bytes, phrase) in cases {
            let path = try Fixtures.writeTemporary(bytes, name: name)
            let result = try CommandRunner.runMeasured(["inspect", path])
            #expect(result.status != 0, "\(name)")
            let lines = result.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(path) && lines[0].contains(phrase), "\(name): \(result.standardError)")
            #expect(result.peakMegabytes < Self.boundMegabytes, "\(name): \(result.peakMegabytes) MB")
        }
        for file in ["hostile_os_system.pt", "hostile_popen.pt", "hostile_eval.pt", "hostile_reduce_chain.pt"] {
            let result = try CommandRunner.runMeasured(["inspect", Fixtures.path("checkpoints/" + file)])
            #expect(result.status != 0 && result.standardError.split(separator: "\n").count == 1, "\(file): \(result.standardError)")
            #expect(result.peakMegabytes < Self.boundMegabytes, "\(file): \(result.peakMegabytes) MB")
        }
    }

    @Test func hugeDeclaredImagesAreRefusedCheaply() throws {
        let png = HandBuiltFiles.pngHeader(width: 100_000, height: 100_000)
        let model = Fixtures.path("backbones/vit_cls.safetensors")
        for (name, bytes) in [("huge.png", png), ("huge.ppm", Array("P6\n100000 100000\n255\n".utf8))] {
            let path = try Fixtures.writeTemporary(bytes, name: name)
            let result = try CommandRunner.runMeasured(["render", path, "--model", model, "--resolution", "32"])
            #expect(result.status != 0)
            #expect(result.standardError.contains(path) && result.standardError.contains("too large"), "\(result.standardError)")
            #expect(result.peakMegabytes < Self.boundMegabytes, "\(name): \(result.peakMegabytes) MB")
        }
    }

    /// A few hundred bytes declaring 9999×10000 pixels: refused from the file's size, before
    /// the 300 MB of pixels would be taken.
    @Test func shortFilesDeclaringManyPixelsAreRefusedCheaply() throws {
        let model = Fixtures.path("backbones/vit_cls.safetensors")
        let path = Fixtures.path("images/edges/declares_huge.ppm")
        let result = try CommandRunner.runMeasured(["render", path, "--model", model, "--resolution", "32"])
        #expect(result.status == 1)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix(path + ": truncated file"), "\(result.standardError)")
        #expect(result.peakMegabytes < Self.boundMegabytes, "\(result.peakMegabytes) MB")
    }

    /// A file that decodes with a warning is shown, and the warning is said in one line.
    @Test func decoderWarningsAreSaid() throws {
        let model = Fixtures.path("backbones/vit_cls.safetensors")
        for (name, phrase) in [("extraneous_bytes.jpg", "extraneous bytes"), ("text_bad_crc.png", "CRC error")] {
            let path = Fixtures.path("images/edges/" + name)
            let result = try CommandRunner.run(["render", path, "--model", model, "--resolution", "32", "--color", "none",
                                                "--symbols", "ascii", "--width", "40"])
            #expect(result.status == 0, "\(name): \(result.standardError)")
            #expect(!result.standardOutput.isEmpty)
            let lines = result.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix(path + ": decoded with a warning") && lines[0].contains(phrase),
                    "\(name): \(result.standardError)")
        }
    }

    /// A 1000×1 photo reaches the 4,096-token cap of the default model (12 blocks × 6 heads ×
    /// 4097² attention, 4.8 GB if kept): the forward pass keeps no attention matrix, and the
    /// whole command, rollout included, stays far under 1 GB.
    @Test func longImagesStayUnderAGigabyte() throws {
        var pixels = [UInt8](repeating: 0, count: 1000 * 3)
        for x in 0..<1000 { pixels[x * 3] = UInt8(x % 256); pixels[x * 3 + 1] = UInt8((x * 7) % 256) }
        let path = try Fixtures.writeTemporary(try PNGEncoder.encode(PixelImage(width: 1000, height: 1, channels: 3, pixels: pixels)),
                                               name: "line.png")
        let result = try CommandRunner.runMeasured(["render", path, "--method", "rollout", "--color", "none",
                                                    "--symbols", "ascii", "--width", "60"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.peakMegabytes < 1000, "\(result.peakMegabytes) MB")
    }
}
