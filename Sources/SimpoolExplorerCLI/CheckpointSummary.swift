import Backbones
import Checkpoints

/// What `inspect` reports about a checkpoint, computed without touching tensor values.
struct CheckpointSummary: Encodable {
    struct TensorLine: Encodable {
        let name: String
        let dtype: String
        let shape: [Int]
    }

    let file: String
    /// The files read for it (a folder's config, index and shards).
    let sourceFiles: [String]
    let format: String
    let weightsEntry: String?
    let tensorCount: Int
    let parameterCount: Int
    let otherElementCount: Int
    let dtypes: [String: Int]
    let tensors: [TensorLine]
    let otherEntries: [String: String]
    let otherEntryOrder: [String]
    let metadata: [String: String]
    let skippedEntries: [String]
    let architecture: String
    let family: String?
    let architectureEvidence: [String]
    let unusedNames: [String]

    enum CodingKeys: String, CodingKey {
        case file, sourceFiles = "source_files", family, format, weightsEntry = "weights_entry", tensorCount = "tensor_count"
        case parameterCount = "parameter_count", otherElementCount = "other_element_count"
        case dtypes, tensors, otherEntries = "other_entries", metadata
        case skippedEntries = "skipped_entries", architecture
        case architectureEvidence = "architecture_evidence", unusedNames = "unused_names"
    }

    init(_ source: ModelSource, numHeads: Int? = nil) {
        let checkpoint = source.checkpoint
        do {
            let summary = try ModelLoader.load(LoadRequest(source: source, numHeads: numHeads)).summary
            var lines = summary.evidence
            if let classes = summary.classCount { lines.append("classifier: \(classes) classes") }
            if let normalization = source.facts.normalization {
                lines.append("mean \(normalization.value.mean), std \(normalization.value.std) (\(normalization.origin))")
            }
            if let labels = source.facts.labels { lines.append("\(labels.value.count) class names (\(labels.origin))") }
            architecture = summary.name
            family = summary.familyName
            architectureEvidence = lines
            unusedNames = summary.unusedNames
        } catch {
            architecture = "unknown"
            family = nil
            architectureEvidence = [String(describing: error)]
            unusedNames = []
        }
        file = source.path
        sourceFiles = source.files
        format = checkpoint.format.rawValue
        weightsEntry = checkpoint.weightsEntry
        tensorCount = checkpoint.tensors.count
        // Parameters are floating-point elements; integer buffers (batch-norm counters,
        // index tables) are counted apart.
        parameterCount = checkpoint.tensors.filter(\.dtype.isFloatingPoint).elementTotal
        otherElementCount = checkpoint.tensors.filter { !$0.dtype.isFloatingPoint }.elementTotal
        var dtypes: [String: Int] = [:]
        for tensor in checkpoint.tensors { dtypes[tensor.dtype.rawValue, default: 0] += 1 }
        self.dtypes = dtypes
        tensors = checkpoint.tensors.map { TensorLine(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape) }
        var others: [String: String] = [:]
        for entry in checkpoint.otherEntries { others[entry.key] = PickleValueDescription.describe(entry.value) }
        otherEntries = others
        otherEntryOrder = checkpoint.otherEntries.map(\.key)
        metadata = checkpoint.metadata
        skippedEntries = checkpoint.skippedEntries
    }

    /// The human-readable report; `keys` bounds how many tensors are listed.
    func text(keys: Int) -> String {
        var lines: [String] = []
        func field(_ name: String, _ value: String) {
            lines.append(name.padding(toLength: max(13, name.count + 1), withPad: " ", startingAt: 0) + value)
        }
        field("file:", file)
        if sourceFiles != [file] { field("read:", sourceFiles.joined(separator: ", ")) }
        field("format:", format)
        field("weights:", weightsEntry.map { "entry '\($0)'" } ?? "top level")
        field("tensors:", String(tensorCount))
        field("parameters:", grouped(parameterCount)
            + (otherElementCount > 0 ? " (+ \(grouped(otherElementCount)) integer/bool elements)" : ""))
        field("dtypes:", dtypes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        for key in metadata.keys.sorted() { field("metadata:", "\(key) = \(metadata[key]!)") }
        for key in otherEntryOrder { field("\(key):", otherEntries[key] ?? "") }
        if !skippedEntries.isEmpty {
            field("skipped:", "\(skippedEntries.count) non-tensor values among the weights (\(skippedEntries.prefix(3).joined(separator: ", ")))")
        }
        field("architecture:", architecture)
        if let family { field("family:", family) }
        for line in architectureEvidence { lines.append("  - " + line) }
        if !unusedNames.isEmpty {
            field("unused:", "\(unusedNames.count) tensors the model does not read (\(unusedNames.prefix(4).joined(separator: ", "))\(unusedNames.count > 4 ? ", …" : ""))")
        }
        let shown = tensors.prefix(keys)
        lines.append(tensors.count > keys ? "first \(keys) of \(tensors.count) tensors:" : "tensors:")
        let width = min(60, shown.map(\.name.count).max() ?? 0)
        for tensor in shown {
            lines.append("  " + tensor.name.padding(toLength: max(width, tensor.name.count), withPad: " ", startingAt: 0)
                + "  " + tensor.dtype.padding(toLength: 8, withPad: " ", startingAt: 0)
                + "  [" + tensor.shape.map(String.init).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n")
    }

    private func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        var result = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }
}

import Foundation
