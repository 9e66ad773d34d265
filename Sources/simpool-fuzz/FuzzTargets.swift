import Checkpoints
import Foundation
import Imaging

// Fuzz entry points for the readers that take files from strangers: checkpoints
// (safetensors, PyTorch zip and legacy pickles), .npy and images. Each input must end in a
// value or a thrown error; a crash, hang or leak is a finding.
//
//   Tools/fuzz.sh [seconds]            libFuzzer with AddressSanitizer, every target
//   simpool-fuzz TARGET FILE…          (plain build) replays inputs, e.g. a crash file
//
// The target is chosen by SIMPOOL_FUZZ_TARGET under libFuzzer, whose main takes argv.

enum FuzzTarget: String, CaseIterable {
    case checkpoint, npy, image

    /// Readers open paths (checkpoints are memory-mapped), so each input goes to a file.
    func run(_ bytes: UnsafeRawBufferPointer) {
        let path = FuzzScratch.path(for: self)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        switch self {
        case .checkpoint:
            if let checkpoint = try? Checkpoint.open(path: path) {
                // Reading every tensor exercises offsets, strides and dtype conversions.
                for tensor in checkpoint.tensors { _ = tensor.floats() }
            }
        case .npy: _ = try? NPYFile.read(path: path)
        case .image: _ = try? ImageDecoder.decode(path: path, maximumPixels: 4_000_000)
        }
    }
}

enum FuzzScratch {
    static let directory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return (base as NSString).appendingPathComponent("simpool-fuzz-\(getpid())")
    }()

    static func path(for target: FuzzTarget) -> String {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (directory as NSString).appendingPathComponent("input-\(target.rawValue)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let name = ProcessInfo.processInfo.environment["SIMPOOL_FUZZ_TARGET"] ?? "checkpoint"
    guard let target = FuzzTarget(rawValue: name) else { fatalError("SIMPOOL_FUZZ_TARGET: one of \(FuzzTarget.allCases)") }
    target.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

#if FUZZING
/// SwiftPM links an executable's entry point under this name; with libFuzzer linked in it
/// hands the command line to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func fuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("simpool_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc, vector = argv
    return fuzzerDriver(&count, &vector, fuzzOneInput)
}
#else
/// The plain build replays inputs: `simpool-fuzz TARGET FILE…`.
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let first = arguments.first, let target = FuzzTarget(rawValue: first) else {
            FileHandle.standardError.write(Data("usage: simpool-fuzz checkpoint|npy|image FILE…\n".utf8))
            exit(2)
        }
        for file in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { target.run($0) }
            print("\(file): ok")
        }
        try? FileManager.default.removeItem(atPath: FuzzScratch.directory)
    }
}
#endif
