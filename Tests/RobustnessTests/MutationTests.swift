import Checkpoints
import Foundation
import Imaging
import Testing
import TestSupport

/// A deterministic mutation harness: every reader gets thousands of corrupted copies of real
/// files (bytes flipped, runs zeroed, lengths cut or grown) and must answer each with a
/// value or an error, never a crash or a hang. The seed is fixed so a failure replays.
struct MutationTests {
    static func mutate(_ bytes: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var copy = bytes
        switch random.below(5) {
        case 0:   // flip a few bytes, biased to the header where the parsers decide
            for _ in 0..<(1 + random.below(8)) {
                let limit = random.below(2) == 0 ? min(copy.count, 512) : copy.count
                let i = random.below(limit)
                copy[i] = UInt8(truncatingIfNeeded: random.next())
            }
        case 1:   // set a 4- or 8-byte field to an extreme
            let i = random.below(max(1, min(copy.count, 1024) - 8))
            let extreme: [UInt8] = random.below(2) == 0 ? [0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F] : [0, 0, 0, 0x80, 0, 0, 0, 0x80]
            for k in 0..<min(8, copy.count - i) { copy[i + k] = extreme[k] }
        case 2:   // cut
            copy = Array(copy.prefix(random.below(copy.count)))
        case 3:   // zero a run
            let i = random.below(copy.count), length = random.below(64)
            for k in i..<min(copy.count, i + length) { copy[k] = 0 }
        default:  // duplicate a slice into the middle
            let i = random.below(copy.count), length = random.below(256)
            copy.insert(contentsOf: copy[i..<min(copy.count, i + length)], at: random.below(copy.count))
        }
        return copy
    }

    static func run(_ files: [String], iterations: Int, seed: UInt64, open: (String) throws -> Void) throws {
        var random = SeededGenerator(seed: seed)
        let directory = try Fixtures.temporaryDirectory()
        for (n, file) in files.enumerated() {
            let original = try Fixtures.bytes(file)
            for i in 0..<iterations {
                let path = directory.appendingPathComponent("m\(n)-\(i)-" + (file as NSString).lastPathComponent).path
                try Data(mutate(original, &random)).write(to: URL(fileURLWithPath: path))
                do { try open(path) } catch {}
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    @Test func checkpointReadersSurviveMutations() throws {
        let files = ["checkpoints/dtypes.safetensors", "checkpoints/dtypes.pt", "checkpoints/dtypes_legacy.pt",
                     "checkpoints/views.pt", "checkpoints/timm_train_legacy.pth.tar", "checkpoints/hostile_os_system.pt"]
        try Self.run(files, iterations: 300, seed: 1) { path in
            let checkpoint = try Checkpoint.open(path: path)
            for tensor in checkpoint.tensors.prefix(16) { _ = tensor.floats() }   // reading values must stay in bounds too
        }
    }

    @Test func npyReaderSurvivesMutations() throws {
        try Self.run(["pooling/grid3x4_f64_fortran.npy", "pooling/grid3x4_channels_first.npy"], iterations: 400, seed: 2) { path in
            _ = try NPYFile.read(path: path)
        }
    }

    @Test func imageDecodersSurviveMutations() throws {
        let files = ["images/rgb.png", "images/interlaced.png", "images/palette_trns.png", "images/baseline.jpg",
                     "images/progressive.jpg", "images/palette8.bmp", "images/rgba32.bmp", "images/rgb.ppm", "images/ascii.ppm"]
        try Self.run(files, iterations: 150, seed: 3) { path in
            _ = try ImageDecoder.decode(path: path, maximumPixels: 4_000_000)
        }
    }
}
