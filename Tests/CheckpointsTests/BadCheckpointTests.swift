import Checkpoints
import Foundation
import Testing
import TestSupport

/// Broken files: one line naming the file and the problem, never a crash.
struct BadCheckpointTests {
    func problem(_ bytes: [UInt8], name: String = "bad.safetensors") throws -> String {
        let path = try Fixtures.writeTemporary(bytes, name: name)
        do {
            _ = try Checkpoint.open(path: path)
            Issue.record("accepted a bad file")
            return ""
        } catch let error as CheckpointError {
            #expect(error.path == path)
            #expect(!error.description.contains("\n"))
            return error.problem
        }
    }

    /// A safetensors file from a header object (as JSON text) and a data section.
    func safetensors(_ header: String, data: [UInt8]) -> [UInt8] { HandBuiltFiles.safetensors(header, data: data) }

    @Test func missingAndEmptyFiles() throws {
        do {
            _ = try Checkpoint.open(path: "/nonexistent/model.pt")
            Issue.record("opened a missing file")
        } catch let error as CheckpointError {
            #expect(error.description == "/nonexistent/model.pt: no such file")
        }
        #expect(try problem([], name: "empty.pt") == "empty file")
    }

    @Test func wrongMagic() throws {
        #expect(try problem(Array("hello world, not weights".utf8), name: "x.pt").contains("unrecognised format"))
    }

    @Test func safetensorsHeaderProblems() throws {
        // Header length larger than the limit, and larger than the file.
        var huge = UInt64(1) << 40
        let hugeBytes = withUnsafeBytes(of: &huge) { Array($0) } + Array("{}".utf8)
        #expect(try problem(hugeBytes).contains("limit"))
        var long = UInt64(500)
        let longBytes = withUnsafeBytes(of: &long) { Array($0) } + Array("{\"a\":1}".utf8)
        #expect(try problem(longBytes).contains("truncated"))
        #expect(try problem(safetensors("{not json", data: [])).contains("not valid JSON"))
        #expect(try problem(safetensors(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]))
            .contains("runs past the end"))
        #expect(try problem(safetensors(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)))
            .contains("needs 12 bytes"))
        #expect(try problem(safetensors(#"{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#, data: [0]))
            .contains("unsupported dtype Q7"))
        #expect(try problem(safetensors(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            data: Array(repeating: 0, count: 12))).contains("overlaps"))
        #expect(try problem(safetensors(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#, data: [0, 0, 0]))
            .contains("gap"))
        #expect(try problem(safetensors(#"{"a":{"dtype":"U8","shape":[1099511627776,1099511627776],"data_offsets":[0,1]}}"#, data: [0]))
            .contains("absurd"))
    }

    @Test(arguments: [0.1, 0.5, 0.9, 0.999])
    func truncatedPyTorchFilesFailCleanly(fraction: Double) throws {
        for file in ["dtypes.pt", "dtypes_legacy.pt", "dtypes.safetensors"] {
            let bytes = try Fixtures.bytes("checkpoints/" + file)
            let cut = Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
            let text = try problem(cut, name: "cut-" + file)
            #expect(!text.isEmpty)
        }
    }

    @Test func legacyStorageRunningPastTheEnd() throws {
        // Drop the final bytes of the last storage: the element count now overstates it.
        let bytes = try Fixtures.bytes("checkpoints/dtypes_legacy.pt")
        let text = try problem(Array(bytes.dropLast(3)), name: "short.pt")
        #expect(text.contains("runs past the end") || text.contains("truncated"), "\(text)")
    }
}
