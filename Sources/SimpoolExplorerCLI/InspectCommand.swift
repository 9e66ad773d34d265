import ArgumentParser
import Checkpoints
import Foundation

/// `simpool-explorer inspect FILE…`: what a weights file holds, without loading a model.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a checkpoint holds: format, container entry, tensors, shapes."
    )

    @Argument(help: "Checkpoint files (.safetensors, .pth, .pth.tar, .pt, .bin) or Hugging Face folders.")
    var files: [String]

    @Option(name: .customLong("num-heads"), help: "Attention heads of a ViT, when the checkpoint does not say.")
    var numHeads: Int?

    @Flag(help: "Print one JSON object per file instead of text.")
    var json = false

    @Option(help: "How many tensor names to list in the text report.")
    var keys = 20

    func validate() throws {
        guard keys >= 0 else { throw ValidationError("--keys must be 0 or more") }
        if let numHeads, numHeads < 1 { throw ValidationError("--num-heads must be a positive number") }
    }

    func run() throws {
        var failed = false
        for (i, file) in files.enumerated() {
            do {
                let summary = CheckpointSummary(try ModelSource.open(path: file), numHeads: numHeads)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(summary), as: UTF8.self))
                } else {
                    if i > 0 { print("") }
                    print(summary.text(keys: keys))
                }
            } catch let error as CheckpointError {
                StandardError.write(error.description)
                failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.inputFailed) }
    }
}
