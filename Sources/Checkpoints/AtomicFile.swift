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
        // POSIX calls rather than Data.write: the error is then errno itself ("File too
        // large", "No space left on device"), where Foundation reports "error 512".
        if let code = writeAll(bytes, to: temporary.path) {
            unlink(temporary.path)
            throw CheckpointError(path: path, problem: "cannot write: \(String(cString: strerror(code)))")
        }
        if rename(temporary.path, path) != 0 {
            let code = errno
            try? fileManager.removeItem(at: temporary)
            throw CheckpointError(path: path, problem: "cannot write: \(String(cString: strerror(code)))")
        }
        return .written
    }

    /// Creates `path` (it must not exist) and writes every byte; returns errno on failure.
    private static func writeAll(_ bytes: [UInt8], to path: String) -> Int32? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return errno }
        var failure: Int32?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if close(descriptor) != 0 && failure == nil { failure = errno }
        return failure
    }
}
