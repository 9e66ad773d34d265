import Backbones
import Checkpoints
import Pooling

/// Reads a SimPool pooling head from a checkpoint, under any of the official prefixes
/// (`gp.pool.`, `global_pool.pool.`, `simpool.`), with γ from the training arguments.
public enum SimPoolHead {
    public struct Loaded: Sendable {
        public let weights: SimPoolWeights
        public let prefix: String
        /// `args.gamma` when the checkpoint recorded it.
        public let gamma: Double?
    }

    public static func load(_ checkpoint: Checkpoint) throws -> Loaded? {
        guard let prefix = SimPoolHeadNames.find(in: checkpoint) else { return nil }
        func tensor(_ name: String) -> WeightTensor? { checkpoint[prefix + name] }
        guard let query = tensor("wq.weight"), let key = tensor("wk.weight"), query.shape.count == 2,
              query.shape[0] == query.shape[1], key.shape == query.shape else {
            throw RuntimeError("\(checkpoint.path): SimPool head under '\(prefix)' lacks square wq/wk weights")
        }
        let norm = tensor("norm_patches.weight") != nil ? "norm_patches" : "norm"
        var beta: Float?
        if let stored = tensor("beta") {
            guard stored.elementCount == 1 else { throw RuntimeError("\(checkpoint.path): SimPool beta is not a scalar") }
            beta = stored.floats()[0]
        }
        let weights = SimPoolWeights(
            queryWeight: query.tensor(), keyWeight: key.tensor(),
            queryBias: tensor("wq.bias")?.tensor(), keyBias: tensor("wk.bias")?.tensor(),
            normWeight: tensor(norm + ".weight")?.tensor(), normBias: tensor(norm + ".bias")?.tensor(), beta: beta)
        var gamma: Double?
        if let args = checkpoint.otherEntries.first(where: { $0.key == "args" })?.value,
           case .object(let record) = args, let value = record.attributes?["gamma"] {
            switch value {
            case .float(let g): gamma = g
            case .int(let g): gamma = Double(g)
            default: break
            }
        }
        return Loaded(weights: weights, prefix: prefix, gamma: gamma)
    }
}
