import Checkpoints
import Foundation
import Testing
import TestSupport

/// Pickles that try to run code are refused by name and nothing runs.
struct HostileCheckpointTests {
    static let expected = (try! Fixtures.json("checkpoints/expected.json"))["hostile"] as! [String: String]
    static let marker = "/tmp/simpool-explorer-pwned"

    @Test(arguments: expected.keys.sorted())
    func hostilePickleIsRefusedNamingTheGlobal(file: String) throws {
        try? FileManager.default.removeItem(atPath: Self.marker)
        let path = Fixtures.path("checkpoints/" + file)
        do {
            _ = try Checkpoint.open(path: path)
            Issue.record("\(file) was accepted")
        } catch let error as CheckpointError {
            let global = Self.expected[file]!
            #expect(error.description.hasPrefix(path + ": "))
            #expect(error.problem.contains(global), "\(error.problem) does not name \(global)")
            #expect(error.problem.contains("refused"))
            #expect(!error.description.contains("\n"))
        }
        #expect(!FileManager.default.fileExists(atPath: Self.marker), "a hostile pickle ran code")
    }
}
