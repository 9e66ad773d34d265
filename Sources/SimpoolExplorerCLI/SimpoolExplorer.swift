import ArgumentParser
import Foundation
import ModelRuntime

/// The root command. Subcommands are added as they become real.
public struct SimpoolExplorer: ParsableCommand {
    public static let version = "0.2.0"

    /// `--version`: the version and the commit it was built from, from the checkout the
    /// binary runs in, or as `Tools/install.sh` recorded it beside the installed files.
    public static var versionLine: String {
        guard let samples = BundledModels.samplesDirectory else { return version }
        let recorded = samples.appendingPathComponent("commit")
        if let commit = try? String(contentsOf: recorded, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !commit.isEmpty {
            return "\(version) (commit \(commit))"
        }
        let checkout = samples.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: checkout.appendingPathComponent(".git").path) else { return version }
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", checkout.path, "rev-parse", "--short=12", "HEAD"]
        let output = Pipe()
        git.standardOutput = output
        git.standardError = FileHandle.nullDevice
        guard (try? git.run()) != nil else { return version }
        git.waitUntilExit()
        let commit = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return git.terminationStatus == 0 && !commit.isEmpty ? "\(version) (commit \(commit))" : version
    }

    public static let configuration = CommandConfiguration(
        commandName: "simpool-explorer",
        abstract: "Explore the attention maps of vision models in the terminal.",
        version: versionLine,
        subcommands: [BrowseCommand.self, RenderCommand.self, ExportCommand.self, EvalCommand.self, InspectCommand.self, PoolCommand.self, MethodsCommand.self, ModelsCommand.self, BenchCommand.self],
        defaultSubcommand: BrowseCommand.self
    )

    public init() {}
}
