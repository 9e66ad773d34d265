import Checkpoints
import Foundation
import Testing
import TestSupport

/// Pickles built by hand to attack the interpreter itself: depth, cycles, sizes.
struct HostilePickleTests {
    /// A PyTorch ZIP archive (stored entries) around a hand-made data.pkl.
    static func archive(_ pickle: [UInt8]) -> [UInt8] {
        var local: [UInt8] = [], central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8((v >> 24) & 0xFF)] }
        let name = Array("archive/data.pkl".utf8)
        local += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
        local += le32(pickle.count) + le32(pickle.count) + le16(name.count) + le16(0) + name + pickle
        central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
        central += le32(pickle.count) + le32(pickle.count) + le16(name.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(0) + name
        let end = le32(0x0605_4B50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(central.count) + le32(local.count) + le16(0)
        return local + central + end
    }

    func problem(_ pickle: [UInt8]) throws -> String {
        let path = try Fixtures.writeTemporary(Self.archive(pickle), name: "attack.pt")
        do {
            _ = try Checkpoint.open(path: path)
            return "accepted"
        } catch let error as CheckpointError {
            return error.problem
        }
    }

    @Test func deepNestingIsRefusedNotRecursedInto() throws {
        // 100 000 nested one-element tuples: PROTO 2, EMPTY_TUPLE, TUPLE1 × 100000, STOP.
        let tuples: [UInt8] = [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        #expect(try problem(tuples).contains("deeper than 200 levels"))
        // Lists nested by MARK … LIST.
        let lists: [UInt8] = [0x80, 2] + [UInt8](repeating: 0x28, count: 50_000) + [UInt8](repeating: 0x6C, count: 50_000) + [0x2E]
        #expect(try problem(lists).contains("deeper than 200 levels"))
    }

    @Test func cyclesAndLateMutationAreRefused() throws {
        // L = []; memo 0; L.append(L)
        let cycle: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x68, 0, 0x61, 0x2E]
        #expect(try problem(cycle).contains("contains itself"))
        // A = []; B = [A]; then A.append(B): A changes after being nested.
        let late: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x28, 0x68, 0, 0x6C, 0x71, 1, 0x68, 0, 0x68, 1, 0x61, 0x2E]
        #expect(try problem(late).contains("after placing it inside another"))
    }

    @Test func absurdLengthsAndUnknownOpcodes() throws {
        // BINUNICODE claiming 4 GiB.
        #expect(try problem([0x80, 2, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E]).contains("runs past the end"))
        // LONG4 with a huge byte count.
        #expect(try problem([0x80, 2, 0x8B, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E]).contains("runs past the end"))
        #expect(try problem([0x80, 2, 0xEE, 0x2E]).contains("unknown opcode 0xee"))
        #expect(try problem([0x80, 2, 0x2E]).contains("stack underflow"))
        // A memo index that was never stored.
        #expect(try problem([0x80, 2, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E]).contains("memo entry"))
    }

    @Test func extensionRegistryIsRefused() throws {
        #expect(try problem([0x80, 2, 0x82, 1, 0x2E]).contains("extension registry"))
    }
}
