import Checkpoints
import Tensors

/// DINOv3 as facebookresearch/dinov3 publishes it (hub files
/// `dinov3_vit{s,s+,b,l,h+}16_pretrain_*.pth`) and transformers' `DINOv3ViTModel` folders:
/// rotary position embedding instead of a position table (`rope_embed.periods` read from
/// the file; transformers computes them from `rope_theta`), 4 storage tokens after [CLS],
/// the key part of the qkv bias masked out (`attn.qkv.bias_mask`; transformers' k_proj has
/// no bias), LayerScale, LayerNorm eps 1e-5, and SwiGLU (`mlp.w1/w2/w3`, transformers'
/// gate/up/down) for the "plus" sizes. Names are mapped onto timm's.
struct DINOv3Family: ModelFamily {
    static let familyName = "DINOv3 (facebookresearch/dinov3, transformers)"
    var name: String { Self.familyName }

    func recognise(_ request: LoadRequest) -> Recognition? {
        let checkpoint = request.checkpoint
        if let prefix = WeightSource.prefix(of: "patch_embed.proj.weight", in: checkpoint),
           checkpoint[prefix + "rope_embed.periods"] != nil || checkpoint[prefix + "storage_tokens"] != nil {
            return Recognition(prefix: prefix, evidence: "rope_embed.periods and storage_tokens: DINOv3's own names")
        }
        if let prefix = WeightSource.prefix(of: "layer.0.attention.q_proj.weight", in: checkpoint),
           checkpoint[prefix + "embeddings.patch_embeddings.weight"] != nil {
            return Recognition(prefix: prefix, evidence: "embeddings.patch_embeddings and layer.N.attention.q_proj: transformers' DINOv3ViT names")
        }
        return nil
    }

    /// transformers' DINOv3ViT names → timm's (q, k and v fused afterwards).
    static func transformersName(_ name: String) -> String? {
        let fixed = ["embeddings.cls_token": "cls_token", "embeddings.mask_token": "mask_token",
                     "embeddings.register_tokens": "reg_token", "embeddings.patch_embeddings.weight": "patch_embed.proj.weight",
                     "embeddings.patch_embeddings.bias": "patch_embed.proj.bias"]
        if let mapped = fixed[name] { return mapped }
        // up_proj is fc1 of the plain MLP, or the value half (w2) of the gated one: named
        // `mlp.up` until the family knows which.
        return WeightSource.timmBlockName(Substring(name), blocks: "layer.", parts: [
            ("attention.q_proj.", "attn.q."), ("attention.k_proj.", "attn.k."), ("attention.v_proj.", "attn.v."),
            ("attention.o_proj.", "attn.proj."), ("layer_scale1.lambda1", "ls1.gamma"), ("layer_scale2.lambda1", "ls2.gamma"),
            ("mlp.gate_proj.", "mlp.w1."), ("mlp.down_proj.", "mlp.fc2."), ("mlp.up_proj.", "mlp.up."),
        ])
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        let checkpoint = request.checkpoint, facts = request.facts
        let transformers = checkpoint[recognition.prefix + "layer.0.attention.q_proj.weight"] != nil
        let weights = WeightSource(checkpoint: checkpoint, prefix: recognition.prefix,
                                   naming: transformers ? "transformers' DINOv3ViT names" : nil,
                                   rename: transformers ? Self.transformersName : { $0 == "storage_tokens" ? "reg_token" : nil })
        guard let width = weights.shape("patch_embed.proj.weight")?.first else {
            throw UnknownArchitecture(reason: "missing tensor '\(weights.spelled("patch_embed.proj.weight"))'", sampleNames: [])
        }
        var depth = 0
        while weights.has("blocks.\(depth).norm1.weight") { depth += 1 }
        let gated = weights.has("blocks.0.mlp.w1.weight")
        for block in 0..<depth {
            let b = "blocks.\(block)."
            if transformers {
                weights.fuse(b + "attn.qkv.weight", from: [b + "attn.q.weight", b + "attn.k.weight", b + "attn.v.weight"])
                // The key projection has no bias: its part of the fused bias is zero.
                weights.derive(b + "attn.qkv.bias", from: [b + "attn.q.bias", b + "attn.v.bias"]) { parts in
                    Tensor(shape: [3 * width], scalars: parts[0].scalars + [Float](repeating: 0, count: width) + parts[1].scalars)
                }
                if gated {
                    for part in ["weight", "bias"] { weights.fuse(b + "mlp.w12.\(part)", from: [b + "mlp.w1.\(part)", b + "mlp.up.\(part)"]) }
                    weights.fuse(b + "mlp.w3.weight", from: [b + "mlp.fc2.weight"])
                    weights.fuse(b + "mlp.w3.bias", from: [b + "mlp.fc2.bias"])
                } else {
                    weights.fuse(b + "mlp.fc1.weight", from: [b + "mlp.up.weight"])
                    weights.fuse(b + "mlp.fc1.bias", from: [b + "mlp.up.bias"])
                }
            } else {
                weights.derive(b + "attn.qkv.bias", from: [b + "attn.qkv.bias", b + "attn.qkv.bias_mask"]) { parts in
                    Tensor(shape: parts[0].shape, scalars: zip(parts[0].scalars, parts[1].scalars).map(*))
                }
                if gated {
                    for part in ["weight", "bias"] { weights.fuse(b + "mlp.w12.\(part)", from: [b + "mlp.w1.\(part)", b + "mlp.w2.\(part)"]) }
                }
            }
        }
        var assembly = ViTAssembly(layout: (transformers ? "transformers DINOv3" : "DINOv3 hub layout") + (gated ? ", SwiGLU" : ""),
                                   weights: weights, evidence: [recognition.evidence],
                                   resampling: Sourced(.bicubic, "no position table: rotary embedding"))
        assembly.feedForward = gated ? .swiglu : .gelu
        assembly.normEps = Sourced(1e-5, "DINOv3's LayerNorm eps")
        if let eps = facts.configDouble("layer_norm_eps") { assembly.normEps = Sourced(Float(eps.value), eps.origin) }
        if let heads = facts.configInt("num_attention_heads") {
            assembly.declaredHeads = heads
        } else if facts.architectureName == nil {
            // DINOv3's sizes have heads of 64 but ViT-7B (4096 wide, 32 heads of 128).
            assembly.declaredHeads = width == 4096 ? Sourced(32, "DINOv3's ViT-7B has 32 heads")
                : Sourced(max(1, width / 64), "DINOv3's S, B, L and H+ sizes have heads of width 64")
        }
        if let activation = facts.configString("hidden_act"), activation.value != (gated ? "silu" : "gelu") {
            throw UnknownArchitecture(reason: "hidden_act '\(activation.value)' (\(activation.origin)) is not the \(gated ? "SwiGLU's SiLU" : "GELU") supported", sampleNames: [])
        }
        // The periods: the file's own, or transformers' from rope_theta.
        let rope: RotaryEmbedding
        if weights.has("rope_embed.periods") {
            rope = RotaryEmbedding(periods: try weights.tensor("rope_embed.periods").scalars)
            assembly.evidence.append("rotary embedding with the file's \(rope.periods.count) periods (rope_embed.periods)")
        } else {
            let theta = facts.configDouble("rope_theta") ?? Sourced(100, "transformers' default rope_theta")
            let heads = assembly.declaredHeads?.value ?? max(1, width / 64)
            rope = RotaryEmbedding(theta: theta.value, headWidth: width / heads)
            assembly.evidence.append("rotary embedding, periods θ^(4i/D) with θ = \(theta.value) (\(theta.origin))")
        }
        assembly.rope = rope
        return try assembly.build(request, family: Self.familyName)
    }
}
