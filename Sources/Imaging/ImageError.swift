/// One bad image, as the one line the user sees: `path: what is wrong`.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// A decoding problem before the file name is attached.
struct DecodeError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
