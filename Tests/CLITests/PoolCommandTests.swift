import Checkpoints
import Foundation
import Testing
import TestSupport

/// `simpool-explorer pool` through the real binary, against the pooling reference cases.
struct PoolCommandTests {
    static let cases = try! Checkpoint.open(path: Fixtures.path("pooling/cases.safetensors"))

    func expected(_ name: String) -> [Float] { Self.cases[name]!.floats() }

    @Test(arguments: ["grid3x4_f64_fortran.npy", "grid3x4_channels_first.npy"])
    func mapAndVectorFilesMatchTheReference(file: String) throws {
        let directory = try Fixtures.temporaryDirectory()
        let map = directory.appendingPathComponent("map.npy").path
        let vector = directory.appendingPathComponent("u.npy").path
        var arguments = ["pool", Fixtures.path("pooling/" + file), "--method", "gem:p=3", "--out", map, "--pooled", vector]
        if file.contains("channels_first") { arguments.append("--channels-first") }
        let result = try CommandRunner.run(arguments)
        #expect(result.status == 0, "\(result.standardError)")
        let written = try NPYFile.read(path: map)
        #expect(written.shape == [3, 4])
        let want = expected("grid3x4|gem:p=3.map")
        for (a, b) in zip(written.scalars, want) { #expect(abs(a - b) <= 1e-6) }
        let pooled = try NPYFile.read(path: vector)
        #expect(pooled.shape == [6])
        for (a, b) in zip(pooled.scalars, expected("grid3x4|gem:p=3.pooled")) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }

        // Existing outputs are kept unless --force.
        let again = try CommandRunner.run(arguments)
        #expect(again.status == 1)
        #expect(again.standardError.contains("\(map): exists; not overwritten (use --force)"))
        #expect(try CommandRunner.run(arguments + ["--force"]).status == 0)
    }

    @Test func learnedHeadFromACheckpoint() throws {
        // The SimPool ViT fixture's head is 48-wide; features of another width are refused by name.
        let result = try CommandRunner.run(["pool", Fixtures.path("pooling/grid3x4_f64_fortran.npy"), "--method", "simpool",
                                            "--weights", Fixtures.path("backbones/simpool_vit.pth.tar")])
        #expect(result.status == 1)
        #expect(result.standardError.contains("simpool: the head's weights are [48, 48], features have 6 channels"))
    }

    @Test func badNPYFilesGiveOneLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        func check(_ bytes: [UInt8], _ message: String) throws {
            let path = directory.appendingPathComponent("bad-\(message.prefix(8)).npy").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try CommandRunner.run(["pool", path, "--method", "gap"])
            #expect(result.status == 1)
            #expect(result.standardError == "\(path): \(message)\n", "\(result.standardError)")
        }
        func npy(_ header: String, payload: Int) -> [UInt8] {
            let text = header + String(repeating: " ", count: 117 - header.utf8.count) + "\n"
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0] + Array(text.utf8) + [UInt8](repeating: 0, count: payload)
        }
        try check(Array("PK not numpy".utf8), "not a .npy file (wrong magic)")
        try check(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", payload: 24),
                  "big-endian >f4 arrays are not supported; save with dtype '<f4'")
        try check(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", payload: 24),
                  "unsupported dtype <i4; features must be float32 or float64")
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", payload: 20),
                  "shape [2, 3] needs 6 values but the file holds 5")
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 5), }", payload: 480),
                  "features of shape [2, 3, 4, 5]: expected [N, d], [h, w, d] or [d, h, w] with --channels-first")
    }

    @Test func methodsListsEveryMethodWithDefaults() throws {
        let result = try CommandRunner.run(["methods", "--json"])
        let rows = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [[String: Any]]
        #expect(rows.map { $0["name"] as! String } == ["simpool", "simpool-np", "cls", "rollout", "attnpool", "gap", "max", "gem", "lse", "gmp", "how"])
        let gem = rows.first { $0["name"] as! String == "gem" }!
        #expect((gem["parameters"] as! [[String: String]]).first?["default"] == "3")
        #expect(rows.first { $0["name"] as! String == "simpool" }!["needs_learned_weights"] as? Bool == true)
    }
}

/// A learned SimPool head with β, read from a checkpoint, through `pool --weights`.
struct PoolLearnedHeadTests {
    @Test func learnedHeadWithBetaMatchesTheReference() throws {
        let cases = try Checkpoint.open(path: Fixtures.path("pooling/cases.safetensors"))
        let directory = try Fixtures.temporaryDirectory()
        let vector = directory.appendingPathComponent("u.npy").path
        let result = try CommandRunner.run(["pool", Fixtures.path("pooling/grid3x4_f64_fortran.npy"), "--method", "simpool",
                                            "--gamma", "1.25", "--weights", Fixtures.path("pooling/simpool_head_beta.safetensors"),
                                            "--pooled", vector])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("simpool:gamma=1.25: 12 tokens × 6 channels on a 3×4 grid"))
        let want = cases["grid3x4|simpool:gamma=1.25|beta=0.37.pooled"]!.floats()
        let got = try NPYFile.read(path: vector).scalars
        for (a, b) in zip(got, want) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
    }
}
