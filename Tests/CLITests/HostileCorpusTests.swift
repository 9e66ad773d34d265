import Foundation
import Testing
import TestSupport

/// The malicious-checkpoint corpus (`Tools/make_hostile_corpus.py`: 36 payloads, each
/// checked to create a marker file under Python's own pickle, written as a PyTorch archive,
/// a legacy stream and an injection into a real checkpoint) through the real binary,
/// under a 4 GB address-space limit: every file is refused with one line naming it, and
/// no payload's marker ever appears.
struct HostileCorpusTests {
    static let folder = Fixtures.path("hostile/corpus")
    nonisolated(unsafe) static let manifest = try! Fixtures.json("hostile/corpus/manifest.json")["files"] as! [String: Any]
    /// The 4 GB address-space limit, except under AddressSanitizer (`Tools/sanitize.sh` sets
    /// ASAN_OPTIONS), whose shadow memory alone reserves terabytes of address space.
    static var limited: [String] {
        ProcessInfo.processInfo.environment["ASAN_OPTIONS"] != nil ? [] : ["/bin/sh", "-c", "ulimit -v 4000000; exec \"$0\" \"$@\""]
    }

    @Test func everyPayloadIsRefusedAndNoneRuns() throws {
        let marker = try Fixtures.temporaryDirectory().appendingPathComponent("marker").path
        #expect(Self.manifest.count == 108)
        let sample = Fixtures.samplePath("images/" + (try FileManager.default.contentsOfDirectory(
            atPath: Fixtures.samplePath("images")).sorted().first!))
        for name in Self.manifest.keys.sorted() {
            let path = Self.folder + "/" + name
            let inspect = try CommandRunner.run(["inspect", path], environment: ["SIMPOOL_HOSTILE_MARKER": marker],
                                                launcher: Self.limited)
            let lines = inspect.standardError.split(separator: "\n")
            #expect(inspect.status == 1, "\(name): exit \(inspect.status)")
            #expect(lines.count == 1 && lines[0].hasPrefix(path + ": refused"), "\(name): \(inspect.standardError)")
            if name.hasSuffix("_injected.pt") {
                // The same file offered as a model: nothing of it is loaded.
                let render = try CommandRunner.run(["render", sample, "--model", path, "--color", "none"],
                                                   environment: ["SIMPOOL_HOSTILE_MARKER": marker], launcher: Self.limited)
                #expect(render.status == 1 && render.standardOutput.isEmpty, "\(name): \(render.standardError)")
                #expect(render.standardError.split(separator: "\n").count == 1, "\(name): \(render.standardError)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "a payload ran")
    }
}
