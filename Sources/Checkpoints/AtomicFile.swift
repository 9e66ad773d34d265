import Foundation

/// Writes a file so that it either appears whole or not at all: the bytes go to a hidden
/// temporary file in the same folder, which is renamed over the target at the end.
/// An existing file is kept unless `overwrite` is set.
public enum AtomicFile {
    public enum Outcome: Equatable { case written, skippedExisting }

    @discardableResult
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws -> Outcome {
        let fileManager = FileManager.default
        if !overwrite && fileManager.fileExists(atPath: path) { return .skippedExisting }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString.prefix(8)).partial")
        do {
            try Data(bytes).write(to: temporary)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw CheckpointError(path: path, problem: "cannot write: \(reason(error))")
        }
        if rename(temporary.path, path) != 0 {
            let code = errno
            try? fileManager.removeItem(at: temporary)
            throw CheckpointError(path: path, problem: "cannot write: \(String(cString: strerror(code)))")
        }
        return .written
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileWriteNoPermissionError: return "permission denied"
            case NSFileWriteOutOfSpaceError: return "no space left on device"
            case NSFileNoSuchFileError, NSFileWriteInvalidFileNameError: return "no such directory"
            default: break
            }
        }
        return nsError.localizedDescription
    }
}
