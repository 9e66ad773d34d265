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
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("simpool-tests-\(UUID().uuidString)")
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

/// JSON numbers written by the fixture script, with "inf"/"-inf" for infinities.
public func jsonDouble(_ value: Any) -> Double {
    if let text = value as? String { return text == "inf" ? .infinity : -.infinity }
    return (value as! NSNumber).doubleValue
}
