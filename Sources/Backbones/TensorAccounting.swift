/// The rule every family goes through: each tensor of the weights is read by the model,
/// or known to change nothing the explorer shows (listed), or the load fails with one
/// line naming the tensors and what they would have changed. A file whose extra tensors
/// mean another network (registers, qk-norm, a SwiGLU part, an extra block) never runs
/// silently as the network the loader does know.
public enum TensorAccounting {
    struct Kind: Sendable {
        let meaning: String
        let harmless: Bool
        /// False for tensors read elsewhere or of training alone, which `inspect` need not list.
        var listed = true
        let matches: @Sendable (_ components: [Substring]) -> Bool
    }

    static func component(_ names: String...) -> @Sendable ([Substring]) -> Bool {
        { components in components.contains { names.contains(String($0)) } }
    }

    /// Best first; the first kind that matches a name classifies it.
    static let kinds: [Kind] = [
        Kind(meaning: "batch-norm counters", harmless: true, matches: component("num_batches_tracked")),
        Kind(meaning: "the mask token of masked-image training", harmless: true, matches: component("mask_token")),
        Kind(meaning: "training heads", harmless: true, matches: component("dino_head", "ibot_head", "head_drop")),
        Kind(meaning: "EMA copies", harmless: true, matches: component("model_ema", "ema", "module_ema")),
        Kind(meaning: "the SimPool pooling head, read by the pooling methods", harmless: true, listed: false,
             matches: { SimPoolHeadNames.isHeadName($0.joined(separator: ".") + ".") }),
        Kind(meaning: "auxiliary batch norms of SimPool's training", harmless: true, listed: false,
             matches: component("aux_bn")),
        Kind(meaning: "CLIP's projection into the text embedding space, which no map reads", harmless: true,
             matches: { $0 == ["proj"] || $0.first == "visual_projection" }),
        Kind(meaning: "an index buffer", harmless: true, matches: component("position_ids")),
        Kind(meaning: "a pooler after the [CLS] token, which no map reads", harmless: true, matches: component("pooler")),
        Kind(meaning: "an attention-pool head, which no backbone map reads", harmless: true, matches: component("attn_pool")),
        Kind(meaning: "qk-norm", harmless: false, matches: component("q_norm", "k_norm", "qk_norm")),
        Kind(meaning: "register tokens", harmless: false, matches: component("reg_token", "register_tokens")),
        Kind(meaning: "storage tokens", harmless: false, matches: component("storage_tokens")),
        Kind(meaning: "a SwiGLU feed-forward", harmless: false, matches: component("w12", "w3", "weights_in", "weights_out")),
        Kind(meaning: "a relative position bias", harmless: false,
             matches: component("relative_position_bias_table", "relative_position_index", "rel_pos_h", "rel_pos_w")),
        Kind(meaning: "rotary position embedding", harmless: false, matches: component("rope", "rope_embed", "freqs")),
        Kind(meaning: "a masked qkv bias", harmless: false, matches: component("bias_mask")),
        Kind(meaning: "LayerScale", harmless: false, matches: component("ls1", "ls2", "gamma_1", "gamma_2", "layer_scale1", "layer_scale2")),
        Kind(meaning: "a norm before the blocks", harmless: false, matches: component("norm_pre", "ln_pre")),
        Kind(meaning: "a classifier the explorer does not use", harmless: true,
             matches: component("head", "head_dist", "classifier", "fc", "cls_classifier", "distillation_classifier")),
    ]

    /// Checks what `source` left unread. Returns the harmless names (for `inspect`);
    /// throws `RefusedTensors` for the rest. `depth`: blocks the model built, so that a
    /// `blocks.N` beyond them is named as an extra block.
    static func check(_ source: WeightSource, depth: Int? = nil, family: String) throws -> [String] {
        var harmless: [String] = []
        var refused: [(name: String, meaning: String)] = []
        for name in source.unusedNames {
            let stripped = name.dropFirst(source.prefix.count)
            let components = stripped.split(separator: ".")
            if let depth, components.count > 1, components[0] == "blocks" || components[0] == "layer" || components[0] == "resblocks",
               let index = Int(components[1]), index >= depth {
                refused.append((name, "a block beyond the \(depth) the model has"))
                continue
            }
            if let kind = kinds.first(where: { $0.matches(components) }) {
                if !kind.harmless {
                    refused.append((name, kind.meaning))
                } else if kind.listed {
                    harmless.append(name)
                }
            } else {
                refused.append((name, "of unknown purpose"))
            }
        }
        if !refused.isEmpty { throw RefusedTensors(family: family, tensors: refused) }
        return harmless + source.outsideNames
    }
}

/// The load refused: tensors the model would not read change what the network computes.
public struct RefusedTensors: Error, CustomStringConvertible {
    public let family: String
    public let tensors: [(name: String, meaning: String)]

    public var description: String {
        var meanings: [String] = []
        for tensor in tensors where !meanings.contains(tensor.meaning) { meanings.append(tensor.meaning) }
        let shown = tensors.prefix(4).map(\.name).joined(separator: ", ") + (tensors.count > 4 ? ", …" : "")
        return "refused: \(tensors.count) tensor\(tensors.count == 1 ? "" : "s") that the \(family) loader would not read "
            + "change what the network computes (\(meanings.joined(separator: "; "))): \(shown)"
    }
}
