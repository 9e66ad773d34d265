import ArgumentParser
import Foundation
import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses of the stable command line: 0 success, 1 some input failed, 2 bad usage.
public enum ExitStatus {
    public static let inputFailed: Int32 = 1
    public static let usage: Int32 = 2
}

extension SimpoolExplorer {
    /// Parses the process arguments, runs the command and exits with the documented status.
    /// swift-argument-parser reports usage errors as 64; the design promises 2.
    public static func runFromCommandLine(_ arguments: [String]? = nil) -> Never {
        if let value = InstructionSet.unknownRequest {
            StandardError.write("\(InstructionSet.environmentVariable)=\(value): not a known value"
                                + " (\(InstructionSet.requestValues.joined(separator: " or "))); ignored")
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let status = exitCode(for: error)
            if status == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            StandardError.write(fullMessage(for: error))
            Glibc.exit(status == .validationFailure ? ExitStatus.usage : status.rawValue)
        }
    }
}

/// Lines for standard error, where every per-file problem goes.
enum StandardError {
    static func write(_ line: String) {
        var text = line
        if !text.hasSuffix("\n") { text += "\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }
}
