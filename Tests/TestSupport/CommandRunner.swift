import Foundation

/// Runs the built `simpool-explorer` binary, as a user or a script would.
public enum CommandRunner {
    public struct Result {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
    }

    /// The binary sits beside the test bundle in the build folder.
    public static var executable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !directory.path.hasSuffix("/debug") && !directory.path.hasSuffix("/release") && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("simpool-explorer")
    }

    /// `launcher`: a program (and its arguments) that execs the binary, to run it under a
    /// resource limit or with fewer privileges: `[launcher…, binary, arguments…]`.
    public static func run(_ arguments: [String], environment: [String: String] = [:], launcher: [String] = []) throws -> Result {
        let process = Process()
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        var merged = ProcessInfo.processInfo.environment
        // The binary sees a terminal outside tmux unless a test says otherwise: tests run
        // from a tmux pane must not take the paths (and ask the tmux) of the pane they run in.
        merged["TMUX"] = nil
        merged["TMUX_PANE"] = nil
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes before waiting so a chatty command cannot fill one and stall.
        // The semaphore orders the reader's write before the read below (polling
        // `isFinished` did not, as ThreadSanitizer pointed out).
        nonisolated(unsafe) var errorData = Data()
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        return Result(status: process.terminationStatus,
                      standardOutput: String(decoding: outputData, as: UTF8.self),
                      standardError: String(decoding: errorData, as: UTF8.self))
    }

    /// Runs the binary and reports its exit status, standard error and peak resident
    /// memory (the binary's own report, see `PeakMemoryReport`), for tests that bound what
    /// a hostile input may cost.
    public static func runMeasured(_ arguments: [String]) throws -> (status: Int32, standardError: String, peakMegabytes: Double) {
        let report = NSTemporaryDirectory() + "simpool-peak-\(UUID().uuidString).txt"
        defer { unlink(report) }
        let result = try run(arguments, environment: ["SIMPOOL_EXPLORER_PEAK_MEMORY_FILE": report])
        let kilobytes = Double((try? String(contentsOfFile: report, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .infinity
        return (result.status, result.standardError, kilobytes / 1024)
    }
}
