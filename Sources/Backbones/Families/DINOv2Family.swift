import Checkpoints

/// DINOv2 as facebookresearch/dinov2 publishes it: the hub's state dicts
/// (`dinov2_vit{s,b,l,g}14[_reg4]_pretrain.pth`) and training checkpoints (`teacher` /
/// `student`, `backbone.` prefixes, blocks in chunks `blocks.K.N`). Its names are timm's
/// but for `register_tokens` and the chunks; ViT-g's feed-forward is SwiGLU (`mlp.w12`,
/// `mlp.w3`). Positions are resampled as its hub configures them: without registers
/// `interpolate_offset=0.1` and no antialias, with registers offset 0 and antialias.
struct DINOv2Family: ModelFamily {
    static let familyName = "DINOv2 (facebookresearch/dinov2)"
    var name: String { Self.familyName }

    func recognise(_ request: LoadRequest) -> Recognition? {
        let checkpoint = request.checkpoint
        // The bundled conversion says how it resamples; it is read as timm's names.
        guard request.facts.metadata["pos_interpolation"] == nil,
              let prefix = WeightSource.prefix(of: "patch_embed.proj.weight", in: checkpoint) else { return nil }
        var marks: [String] = []
        if checkpoint[prefix + "register_tokens"] != nil { marks.append("register_tokens") }
        if checkpoint[prefix + "mask_token"] != nil { marks.append("mask_token") }
        if checkpoint.names.contains(where: { $0.hasPrefix(prefix) && Self.chunkedBlock($0.dropFirst(prefix.count)) != nil }) {
            marks.append("blocks in chunks (blocks.K.N)")
        }
        if checkpoint[prefix + "blocks.0.mlp.w12.weight"] != nil { marks.append("mlp.w12") }
        guard !marks.isEmpty else { return nil }
        return Recognition(prefix: prefix, evidence: "timm-like names with " + marks.joined(separator: ", ") + ": DINOv2's own layout")
    }

    /// `blocks.K.N.rest` → `blocks.N.rest` (a chunked block), else nil.
    static func chunkedBlock(_ name: Substring) -> String? {
        let parts = name.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blocks", Int(parts[1]) != nil, Int(parts[2]) != nil else { return nil }
        return "blocks.\(parts[2]).\(parts[3])"
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        let checkpoint = request.checkpoint
        let weights = WeightSource(checkpoint: checkpoint, prefix: recognition.prefix) { name in
            if name == "register_tokens" { return "reg_token" }
            return Self.chunkedBlock(Substring(name))
        }
        let registers = weights.has("reg_token")
        let training = checkpoint.weightsEntry != nil || !recognition.prefix.isEmpty
        let swiglu = weights.has("blocks.0.mlp.w12.weight")
        let resampling = registers
            ? Sourced(PositionResampling.antialiasedBicubic, "DINOv2's hub with registers: interpolate_antialias=True, interpolate_offset=0")
            : Sourced(PositionResampling.bicubicWithOffset, "DINOv2's hub without registers: interpolate_offset=0.1, no antialias")
        var layout = training ? "DINOv2 training layout" : "DINOv2 hub layout"
        if registers { layout += " with registers" }
        if swiglu { layout += ", SwiGLU" }
        var assembly = ViTAssembly(layout: layout, weights: weights, evidence: [recognition.evidence], resampling: resampling)
        assembly.normEps = Sourced(1e-6, "DINOv2's LayerNorm eps")
        assembly.feedForward = swiglu ? .swiglu : .gelu
        if training {
            assembly.evidence.append("training checkpoint: entry '\(checkpoint.weightsEntry ?? "top level")', prefix '\(recognition.prefix)'")
        }
        // Every DINOv2 size (S, B, L, g) has heads of width 64; a name or flag still wins.
        if let width = weights.shape("patch_embed.proj.weight")?.first, request.facts.architectureName == nil {
            assembly.declaredHeads = Sourced(max(1, width / 64), "DINOv2's sizes all have heads of width 64")
        }
        return try assembly.build(request, family: Self.familyName)
    }
}
