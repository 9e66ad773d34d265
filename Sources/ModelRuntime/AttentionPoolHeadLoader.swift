import Backbones
import Checkpoints
import Pooling

/// Reads a learned attention-pool head (`attn_pool.*`, timm's `AttentionPoolLatent`) from a
/// checkpoint. Every tensor of the head is read, or the head is refused by name: a head
/// with parts this does not compute (qk-norm, a position table) would pool differently.
public enum AttentionPoolHeadLoader {
    static let known = ["latent", "q.weight", "q.bias", "kv.weight", "kv.bias", "proj.weight", "proj.bias",
                        "norm.weight", "norm.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"]

    public static func load(_ checkpoint: Checkpoint, heads: Int?) throws -> AttentionPoolWeights? {
        guard let latentName = checkpoint.names.first(where: { $0 == "attn_pool.latent" || $0.hasSuffix(".attn_pool.latent") }) else {
            return nil
        }
        let prefix = String(latentName.dropLast("latent".count))
        func tensor(_ name: String) -> WeightTensor? { checkpoint[prefix + name] }
        let unknown = checkpoint.names.filter { $0.hasPrefix(prefix) && !known.contains(String($0.dropFirst(prefix.count))) }
        guard unknown.isEmpty else {
            throw RuntimeError("\(checkpoint.path): the attention-pool head has parts this program does not compute: \(unknown.prefix(4).joined(separator: ", "))")
        }
        guard let latent = tensor("latent"), latent.shape.count == 3, let q = tensor("q.weight"), let kv = tensor("kv.weight"),
              let proj = tensor("proj.weight"), let heads, heads > 0 else {
            throw RuntimeError("\(checkpoint.path): attention-pool head under '\(prefix)' lacks latent, q, kv or proj weights, or the head count")
        }
        return AttentionPoolWeights(
            latent: latent.tensor().reshaped([latent.shape[1], latent.shape[2]]),
            queryWeight: q.tensor(), queryBias: tensor("q.bias")?.tensor(),
            keyValueWeight: kv.tensor(), keyValueBias: tensor("kv.bias")?.tensor(),
            projectionWeight: proj.tensor(), projectionBias: tensor("proj.bias")?.tensor(),
            normWeight: tensor("norm.weight")?.tensor(), normBias: tensor("norm.bias")?.tensor(),
            fc1Weight: tensor("mlp.fc1.weight")?.tensor(), fc1Bias: tensor("mlp.fc1.bias")?.tensor(),
            fc2Weight: tensor("mlp.fc2.weight")?.tensor(), fc2Bias: tensor("mlp.fc2.bias")?.tensor(), heads: heads)
    }
}
