import Checkpoints
import Foundation
import Testing
import TestSupport

/// Sizes, counts and names a file declares, made hostile by hand: each is one line naming
/// the problem, never an arithmetic trap, and an ambiguous archive is refused.
struct DeclaredSizeTests {
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    /// A PyTorch ZIP archive of stored entries.
    static func archive(_ entries: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var local: [UInt8] = [], central: [UInt8] = []
        for entry in entries {
            let name = Array(entry.name.utf8), offset = local.count, size = entry.bytes.count
            local += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            local += le32(size) + le32(size) + le16(name.count) + le16(0) + name + entry.bytes
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            central += le32(size) + le32(size) + le16(name.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + name
        }
        let end = le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count) + le32(central.count)
            + le32(local.count) + le16(0)
        return local + central + end
    }

    /// data.pkl asking for storage '0' of `count` elements (LONG1 bytes, little-endian).
    static func storagePickle(count: [UInt8]) -> [UInt8] {
        func unicode(_ text: String) -> [UInt8] { [0x58] + le32(text.utf8.count) + Array(text.utf8) }
        return [0x80, 2, 0x28] + unicode("storage") + Array("ctorch\nFloatStorage\n".utf8) + unicode("0") + unicode("cpu")
            + [0x8A, UInt8(count.count)] + count + [0x74, 0x51, 0x2E]
    }

    static func problem(_ bytes: [UInt8]) throws -> String {
        let path = try Fixtures.writeTemporary(bytes, name: "declared.pt")
        do {
            _ = try Checkpoint.open(path: path)
            return "accepted"
        } catch let error as CheckpointError {
            #expect(!error.problem.contains("\n"))
            return error.problem
        }
    }

    @Test func absurdStorageCountsAreOneLine() throws {
        let data = [UInt8](repeating: 0, count: 16)
        func attempt(_ count: [UInt8]) throws -> String {
            try Self.problem(Self.archive([("archive/data.pkl", Self.storagePickle(count: count)), ("archive/data/0", data)]))
        }
        // 2^62 elements of four bytes: the product overflows.
        #expect(try attempt([0, 0, 0, 0, 0, 0, 0, 0x40]).contains("absurdly large"))
        // 2^63 − 1.
        #expect(try attempt([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]).contains("absurdly large"))
        // −2^62 and −5.
        #expect(try attempt([0, 0, 0, 0, 0, 0, 0, 0xC0]).contains("negative"))
        #expect(try attempt([0xFB]).contains("negative"))
        // 2^64, a long integer wider than any count.
        #expect(try attempt([0, 0, 0, 0, 0, 0, 0, 0, 1]).contains("too large for any file"))
    }

    @Test func twoEntriesOfOneNameAreRefused() throws {
        let pickle: [UInt8] = [0x80, 2, 0x7D, 0x2E]   // an empty dict
        let problem = try Self.problem(Self.archive([("archive/data.pkl", pickle), ("archive/data.pkl", pickle)]))
        #expect(problem.contains("'archive/data.pkl' appears twice"), "\(problem)")
    }
}

extension DeclaredSizeTests {
    /// A header of a million tiny entries fits under the header's byte limit; it is answered
    /// with one line before it is parsed (the suite only checks that it finishes).
    @Test func aHeaderFloodIsRefusedBeforeItIsParsed() throws {
        let count = 1_000_000
        var header = "{"
        header.reserveCapacity(count * 64)
        for i in 0..<count {
            header += (i == 0 ? "" : ",") + #""t\#(i)":{"dtype":"F32","shape":[1],"data_offsets":[\#(4 * i),\#(4 * i + 4)]}"#
        }
        header += "}"
        let path = try Fixtures.writeTemporary(HandBuiltFiles.safetensors(header, data: [UInt8](repeating: 0, count: 4 * count)),
                                               name: "flood.safetensors")
        #expect(throws: CheckpointError(path: path, problem: "safetensors header lists 1000000 tensors, more than the 100000 a checkpoint may hold")) {
            try Checkpoint.open(path: path)
        }
    }
}

extension DeclaredSizeTests {
    /// data.pkl rebuilding one tensor with `_rebuild_tensor_v2` and `extra` more arguments.
    static func rebuildPickle(extra: Int) -> [UInt8] {
        func unicode(_ text: String) -> [UInt8] { [0x58] + le32(text.utf8.count) + Array(text.utf8) }
        let storage = [0x28] + unicode("storage") + Array("ctorch\nFloatStorage\n".utf8) + unicode("0") + unicode("cpu")
            + [0x4B, 4, 0x74, 0x51]                                   // ('storage', FloatStorage, '0', 'cpu', 4) → BINPERSID
        var arguments: [UInt8] = [0x28] + storage + [0x4B, 0]          // MARK, storage, offset 0
        arguments += [0x4B, 4, 0x85, 0x4B, 1, 0x85, 0x89, 0x7D]       // size (4,), stride (1,), False, {}
        for _ in 0..<extra { arguments += [0x4B, 0] }
        return [0x80, 2] + Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + arguments + [0x74, 0x52, 0x2E]
    }

    @Test func rebuildCallsWithTheWrongArityAreRefused() throws {
        let data = [UInt8](repeating: 0, count: 16)
        func attempt(_ extra: Int) throws -> String {
            try Self.problem(Self.archive([("archive/data.pkl", Self.rebuildPickle(extra: extra)), ("archive/data/0", data)]))
        }
        #expect(try attempt(0) == "accepted")        // six arguments, as torch.save writes them
        #expect(try attempt(1) == "accepted")        // seven, with metadata
        #expect(try attempt(3).contains("_rebuild_tensor_v2 called with 9 arguments (PyTorch passes 6 or 7)"))
    }
}
