/// A problem with one input file, phrased as the single line the user sees:
/// `path: what is wrong`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// A problem found while reading bytes, before the file name is known to the reader.
/// Callers wrap it into a `CheckpointError` that names the file.
public struct FormatError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
