#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Weights are read from the mapping in place,
/// so opening a checkpoint costs page-table entries, not a copy of its bytes.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw CheckpointError(path: path, problem: MappedFile.describe(errno: errno))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw CheckpointError(path: path, problem: MappedFile.describe(errno: errno))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError(path: path, problem: "not a regular file")
        }
        let size = Int(status.st_size)
        if size == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw CheckpointError(path: path, problem: "cannot map file: \(MappedFile.describe(errno: errno))")
        }
        mapping = address
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
    }

    public var count: Int { bytes.count }

    static func describe(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        case EISDIR: return "is a directory"
        default: return String(cString: strerror(code))
        }
    }
}

/// A byte range of a mapped file: where one storage or tensor lives.
public struct FileSlice: @unchecked Sendable {
    public let file: MappedFile
    public let offset: Int
    public let count: Int

    public init(file: MappedFile, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= file.count)
        self.file = file
        self.offset = offset
        self.count = count
    }

    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + count)])
    }
}
