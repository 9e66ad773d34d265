import ArgumentParser
import Foundation
import Pooling

/// `simpool-explorer methods`: every pooling method, its parameters and defaults.
struct MethodsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "methods", abstract: "List the pooling methods.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        if json {
            let rows: [[String: Any]] = MethodCatalog.entries.map { entry in
                ["name": entry.name, "summary": entry.summary, "needs_learned_weights": entry.needsLearnedWeights,
                 "needs_attention": entry.needsAttention,
                 "parameters": entry.parameters.map { ["name": $0.name, "default": $0.defaultText, "help": $0.help] }]
            }
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for (i, entry) in MethodCatalog.entries.enumerated() {
            var tags: [String] = []
            if entry.needsLearnedWeights { tags.append("learned weights when the checkpoint has them") }
            if entry.needsAttention { tags.append("transformers with [CLS] only") }
            print("\(i + 1). \(entry.name)  \(entry.summary)" + (tags.isEmpty ? "" : " [\(tags.joined(separator: "; "))]"))
            for parameter in entry.parameters {
                print("     \(entry.name):\(parameter.name)=…  \(parameter.help) (default \(parameter.defaultText))")
            }
        }
    }
}
