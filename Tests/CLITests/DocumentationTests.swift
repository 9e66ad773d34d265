import Foundation
import Testing
import TestSupport

/// The front page and the docs keep pointing at things that exist, and the commands they
/// name run.
struct DocumentationTests {
    static let root = Fixtures.repositoryRoot

    /// README, CONTRIBUTING, CHANGELOG and every Markdown file under docs/.
    static var documents: [URL] {
        let top = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "Samples/models/README.md"].map { root.appendingPathComponent($0) }
        let docs = (try? FileManager.default.contentsOfDirectory(at: root.appendingPathComponent("docs"), includingPropertiesForKeys: nil)) ?? []
        return top + docs.filter { $0.pathExtension == "md" }.sorted { $0.path < $1.path }
    }

    @Test func noLinkPointsToAMissingFile() throws {
        #expect(Self.documents.count >= 7, "README, CONTRIBUTING, CHANGELOG and docs/")
        let link = try Regex(#"\]\(([^)\s]+)\)"#)
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for match in text.matches(of: link) {
                var target = String(match.output[1].substring!)
                if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:") || target.hasPrefix("#") { continue }
                if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
                let resolved = document.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: resolved.path),
                        "\(document.lastPathComponent) links to \(target), which does not exist")
                #expect(resolved.path.hasPrefix(Self.root.standardizedFileURL.path), "\(document.lastPathComponent) points outside the repository: \(target)")
            }
        }
    }

    @Test func theFrontPageIsAFrontPage() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 160, "README has \(lines.count) lines")
        // The two commands a newcomer runs come first, and both exist.
        let commands = lines.filter { $0.hasPrefix("    ./Tools/") }.prefix(2).map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(commands.count == 2)
        for command in commands {
            #expect(FileManager.default.isExecutableFile(atPath: Self.root.appendingPathComponent(String(command.dropFirst(2))).path), "\(command)")
        }
        #expect(!readme.contains("DESIGN.md"), "the README points at notes outside the repository")
    }

    /// Every subcommand the front page's command table names answers --help.
    @Test func everyCommandInTheTableRuns() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let row = try Regex(#"\| `simpool-explorer ([a-z]+)"#)
        let names = Set(readme.matches(of: row).map { String($0.output[1].substring!) })
        #expect(names.count >= 8, "\(names)")
        for name in names.sorted() {
            let result = try CommandRunner.run([name, "--help"])
            #expect(result.status == 0, "simpool-explorer \(name) --help: \(result.standardError)")
        }
    }
}
