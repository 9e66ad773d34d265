import Checkpoints
import Tensors

/// Checkpoint tensors by their names under a stripped prefix, converted to Float32 when
/// first asked for. Records which names were used, so the rest can be reported.
final class WeightSource: @unchecked Sendable {
    let checkpoint: Checkpoint
    let prefix: String
    private(set) var used: Set<String> = []

    init(checkpoint: Checkpoint, prefix: String) {
        self.checkpoint = checkpoint
        self.prefix = prefix
    }

    func has(_ name: String) -> Bool { checkpoint[prefix + name] != nil }

    func shape(_ name: String) -> [Int]? { checkpoint[prefix + name]?.shape }

    func tensor(_ name: String, shape expected: [Int]? = nil) throws -> Tensor {
        guard let weight = checkpoint[prefix + name] else {
            throw UnknownArchitecture(reason: "missing tensor '\(prefix + name)'", sampleNames: [])
        }
        if let expected, weight.shape != expected {
            throw UnknownArchitecture(reason: "'\(prefix + name)' has shape \(weight.shape), expected \(expected)", sampleNames: [])
        }
        used.insert(prefix + name)
        return weight.tensor()
    }

    func optional(_ name: String, shape: [Int]? = nil) throws -> Tensor? {
        has(name) ? try tensor(name, shape: shape) : nil
    }

    var unusedNames: [String] {
        checkpoint.names.filter { !used.contains($0) }
    }

    /// The prefix under which `suffix` appears (`module.backbone.` …), if any.
    static func prefix(of suffix: String, in checkpoint: Checkpoint) -> String? {
        let candidates = checkpoint.names.filter { $0 == suffix || $0.hasSuffix("." + suffix) }
        return candidates.map { String($0.dropLast(suffix.count)) }.min { $0.count < $1.count }
    }
}
