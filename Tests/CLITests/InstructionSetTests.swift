import Checkpoints
import Foundation
import Testing
import TestSupport

/// One binary, two paths: on a CPU with AVX-512 the engine runs the wide kernel's AVX-512
/// build (and GMP's bfloat16 Gram matrix), and `SIMPOOL_ISA=avx2` keeps it on the AVX2 +
/// FMA path an AVX2-only CPU takes. Every map of every method must come out the same both
/// ways, to within float rounding, so that neither path goes untested on this machine.
/// (On a CPU without AVX-512 both runs take the AVX2 path; the in-process kernel tests
/// still run the wide kernel there, in its baseline build.)
struct InstructionSetTests {
    static let avx2 = ["SIMPOOL_ISA": "avx2"]

    static var cpuHasAVX512: Bool {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? [])
        return ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { flags.contains(Substring($0)) }
    }

    /// `bench` says which path it took.
    @Test func benchSaysWhichPathItChose() throws {
        let arguments = ["bench", "--forward-only", "--json", "--repeats", "1", "--threads", "1", "--resolution", "56"]
        let chosen = try CommandRunner.run(arguments)
        let kept = try CommandRunner.run(arguments, environment: Self.avx2)
        #expect(chosen.status == 0 && kept.status == 0, "\(chosen.standardError)\(kept.standardError)")
        #expect(kept.standardOutput.contains("using AVX2+FMA"))
        if Self.cpuHasAVX512 {
            #expect(chosen.standardOutput.contains("using AVX-512"))
            #expect(kept.standardOutput.contains("AVX-512 kept off by SIMPOOL_ISA"))
        } else {
            #expect(chosen.standardOutput.contains("using AVX2+FMA") || chosen.standardOutput.contains("default vectors"))
        }
    }

    /// A value it does not know gets one line on standard error, and the command goes on.
    @Test func anUnknownValueIsSaidAndIgnored() throws {
        let result = try CommandRunner.run(["bench", "--forward-only", "--json", "--repeats", "1", "--threads", "1",
                                            "--resolution", "56"], environment: ["SIMPOOL_ISA": "avx"])
        #expect(result.status == 0)
        #expect(result.standardError == "SIMPOOL_ISA=avx: not a known value (avx2 or auto); ignored\n")
        #expect(result.standardOutput.contains(Self.cpuHasAVX512 ? "using AVX-512" : "using AVX2+FMA"))
    }

    /// Every method's map from the bundled ViT and from a ResNet-50-layout model (every
    /// method a CNN has), exported both ways and compared value by value.
    @Test(arguments: [("dinov2-vits14", "all"), (Fixtures.path("backbones/resnet50_layout.pth"), "simpool-np,gap,max,gem,lse,gmp,how")])
    func everyMapIsTheSameOnBothPaths(model: String, methods: String) throws {
        let image = Fixtures.samplePath("images/owl.jpg")
        var exported: [[String: [Float]]] = []
        for environment in [[:], Self.avx2] {
            let out = try Fixtures.temporaryDirectory()
            let result = try CommandRunner.run(["export", image, "--out", out.path, "--method", methods, "--format", "npy",
                                                "--model", model, "--resolution", "224"], environment: environment)
            #expect(result.status == 0, "\(result.standardError)")
            var maps: [String: [Float]] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: out.path) where name.hasSuffix(".npy") {
                maps[name] = try NPYFile.read(path: out.appendingPathComponent(name).path).scalars
            }
            exported.append(maps)
        }
        let (chosen, kept) = (exported[0], exported[1])
        #expect(chosen.count >= 5, "too few maps: \(chosen.keys.sorted())")
        #expect(Set(chosen.keys) == Set(kept.keys))
        for (name, values) in chosen {
            let other = try #require(kept[name])
            #expect(values.count == other.count)
            let scale = values.map { abs($0) }.max() ?? 0
            let difference = zip(values, other).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= 1e-4 * scale + 1e-6, "\(name): the paths differ by \(difference) (values up to \(scale))")
        }
    }
}
