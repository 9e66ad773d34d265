import ArgumentParser
import Checkpoints
import Foundation
import ModelRuntime

/// `simpool-explorer models`: what is bundled and where it lives.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the bundled models.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        var rows: [[String: String]] = []
        for entry in BundledModels.entries {
            var row = ["name": entry.name, "description": entry.description]
            if let path = try? BundledModels.resolve(entry.name) {
                row["path"] = path
                if let model = try? LoadedModel.load(entry.name) {
                    let summary = model.backbone.summary
                    row["architecture"] = summary.name
                    row["layers"] = String(summary.layerCount)
                    row["parameters"] = String(model.parameterCount)
                }
            } else {
                row["path"] = "missing"
            }
            rows.append(row)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        for row in rows {
            let marker = row["name"] == BundledModels.defaultName ? " (default)" : ""
            print("\(row["name"]!)\(marker)")
            print("  \(row["description"]!)")
            print("  architecture: \(row["architecture"] ?? "?"), \(row["layers"] ?? "?") layers, \(row["parameters"] ?? "?") parameters")
            print("  file: \(row["path"]!)")
        }
    }
}
