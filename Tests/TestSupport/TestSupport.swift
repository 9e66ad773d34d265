import Foundation

/// Where the committed fixtures and samples live, found from this file's own path so the
/// tests run from any working directory.
public enum Fixtures {
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // TestSupport
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()

    public static func path(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    public static func samplePath(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("Samples").appendingPathComponent(relative).path
    }

    public static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(relative)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    public static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(relative))))
    }

    /// A fresh empty directory for one test.
    /// One folder per test process, removed when the process exits.
    private static let temporaryRoot: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("simpool-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Fixtures.temporaryRootForCleanup) }
        return root
    }()
    public static var temporaryRootForCleanup: URL { temporaryRoot }

    public static func temporaryDirectory() throws -> URL {
        let url = temporaryRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes bytes to a new file in a fresh temporary directory and returns its path.
    public static func writeTemporary(_ bytes: [UInt8], name: String) throws -> String {
        let url = try temporaryDirectory().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}

/// A float written by the fixture script as exact hexadecimal text ("0x1.8p+1", "-inf").
public func jsonDouble(_ value: Any) -> Double {
    if let text = value as? String, let parsed = Double(text) { return parsed }
    return (value as! NSNumber).doubleValue
}
