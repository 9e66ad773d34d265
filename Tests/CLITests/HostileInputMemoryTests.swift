import Foundation
import Testing
import TestSupport

/// Hostile files through the real binary, one process each: every one ends in one line on
/// stderr and a failure status, and none makes the process take more memory than reading a
/// small real file does (the declared sizes are refused before anything is allocated).
struct HostileInputMemoryTests {
    /// Peak memory of the program starting, reading a checkpoint and failing is about
    /// 30–60 MB; a declared 10¹² elements or 10¹⁰ pixels must not move it.
    static let boundMegabytes = 150.0

    static func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func safetensors(_ header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return (0..<8).map { UInt8((UInt64(json.count) >> (8 * $0)) & 0xFF) } + json + data
    }

    @Test func hugeDeclaredCheckpointsAreRefusedCheaply() throws {
        let cases: [(String, [UInt8], String)] = [
            ("shape.safetensors", Self.safetensors(#"{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "needs"),
            ("offsets.safetensors", Self.safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4000000000000]}}"#, data: [0, 0, 0, 0]), "past the end"),
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
        let ihdr: [UInt8] = Array("IHDR".utf8) + Self.be32(100_000) + Self.be32(100_000) + [8, 2, 0, 0, 0]
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.be32(13) + ihdr + Self.be32(Self.crc32(ihdr))
        let model = Fixtures.path("backbones/vit_cls.safetensors")
        for (name, bytes) in [("huge.png", png), ("huge.ppm", Array("P6\n100000 100000\n255\n".utf8))] {
            let path = try Fixtures.writeTemporary(bytes, name: name)
            let result = try CommandRunner.runMeasured(["render", path, "--model", model, "--resolution", "32"])
            #expect(result.status != 0)
            #expect(result.standardError.contains(path) && result.standardError.contains("too large"), "\(result.standardError)")
            #expect(result.peakMegabytes < Self.boundMegabytes, "\(name): \(result.peakMegabytes) MB")
        }
    }
}
