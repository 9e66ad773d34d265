import Checkpoints

/// CLIP's visual towers: OpenCLIP checkpoints (`open_clip_pytorch_model.bin`, the whole
/// model; the text tower is another module), OpenAI's files, and transformers'
/// `CLIPVisionModel` / `CLIPModel` folders. Names are mapped onto timm's; `ln_pre` is the
/// norm before the blocks. The activation is the config's (`hidden_act`, open_clip's
/// `quick_gelu`); without one, files from OpenAI (which carry `input_resolution`) use
/// QuickGELU and others OpenCLIP's default GELU, said in `inspect` and overridden by
/// `--activation`. Inputs use CLIP's own mean and std unless the source gives others.
struct CLIPFamily: ModelFamily {
    static let familyName = "CLIP visual tower (OpenCLIP, OpenAI, transformers)"
    var name: String { Self.familyName }

    func recognise(_ request: LoadRequest) -> Recognition? {
        let checkpoint = request.checkpoint
        // The text tower has resblocks too (at the top level in OpenCLIP's files): the visual
        // one is where class_embedding and conv1 sit beside them.
        let suffix = "transformer.resblocks.0.attn.in_proj_weight"
        if let prefix = checkpoint.names.filter({ $0.hasSuffix(suffix) }).map({ String($0.dropLast(suffix.count)) })
            .first(where: { checkpoint[$0 + "class_embedding"] != nil && checkpoint[$0 + "conv1.weight"] != nil }) {
            return Recognition(prefix: prefix, evidence: "conv1, class_embedding and transformer.resblocks.N: CLIP's (OpenCLIP / OpenAI) names")
        }
        if let prefix = WeightSource.prefix(of: "embeddings.patch_embedding.weight", in: checkpoint),
           checkpoint[prefix + "embeddings.class_embedding"] != nil {
            return Recognition(prefix: prefix, evidence: "embeddings.class_embedding and encoder.layers.N.self_attn: transformers' CLIP names")
        }
        return nil
    }

    /// OpenCLIP / OpenAI names → timm's.
    static func openCLIPName(_ name: String) -> String? {
        let fixed = ["conv1.weight": "patch_embed.proj.weight", "conv1.bias": "patch_embed.proj.bias",
                     "class_embedding": "cls_token", "positional_embedding": "pos_embed",
                     "ln_pre.weight": "norm_pre.weight", "ln_pre.bias": "norm_pre.bias",
                     "ln_post.weight": "norm.weight", "ln_post.bias": "norm.bias"]
        if let mapped = fixed[name] { return mapped }
        return WeightSource.timmBlockName(Substring(name), blocks: "transformer.resblocks.", parts: [
            ("ln_1.", "norm1."), ("ln_2.", "norm2."), ("attn.out_proj.", "attn.proj."), ("mlp.c_fc.", "mlp.fc1."),
            ("mlp.c_proj.", "mlp.fc2."), ("ls_1.gamma", "ls1.gamma"), ("ls_2.gamma", "ls2.gamma"),
            ("attn.in_proj_weight", "attn.qkv.weight"), ("attn.in_proj_bias", "attn.qkv.bias"),
        ])
    }

    /// transformers' CLIP names → timm's (q, k and v are fused afterwards).
    static func transformersName(_ name: String) -> String? {
        let fixed = ["embeddings.class_embedding": "cls_token", "embeddings.patch_embedding.weight": "patch_embed.proj.weight",
                     "embeddings.position_embedding.weight": "pos_embed",
                     "pre_layrnorm.weight": "norm_pre.weight", "pre_layrnorm.bias": "norm_pre.bias",
                     "post_layernorm.weight": "norm.weight", "post_layernorm.bias": "norm.bias"]
        if let mapped = fixed[name] { return mapped }
        return WeightSource.timmBlockName(Substring(name), blocks: "encoder.layers.", parts: [
            ("self_attn.q_proj.", "attn.q."), ("self_attn.k_proj.", "attn.k."), ("self_attn.v_proj.", "attn.v."),
            ("self_attn.out_proj.", "attn.proj."), ("layer_norm1.", "norm1."), ("layer_norm2.", "norm2."),
        ])
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        let checkpoint = request.checkpoint, facts = request.facts
        let transformers = checkpoint[recognition.prefix + "embeddings.class_embedding"] != nil
        let weights = WeightSource(checkpoint: checkpoint, prefix: recognition.prefix,
                                   naming: transformers ? "transformers' CLIP names" : "CLIP's names",
                                   rename: transformers ? Self.transformersName : Self.openCLIPName)
        if transformers {
            var block = 0
            while weights.has("blocks.\(block).attn.q.weight") {
                for part in ["weight", "bias"] {
                    weights.fuse("blocks.\(block).attn.qkv.\(part)", from: ["q", "k", "v"].map { "blocks.\(block).attn.\($0).\(part)" })
                }
                block += 1
            }
        }
        // transformers' CLIPModel nests the tower's settings under vision_config.
        let vision = facts.config?["vision_config"] ?? facts.config
        let openCLIP = facts.config?["model_cfg"]
        var assembly = ViTAssembly(layout: transformers ? "transformers CLIP" : "OpenCLIP / OpenAI CLIP", weights: weights,
                                   evidence: [recognition.evidence],
                                   resampling: Sourced(.bicubic, "transformers' CLIP interpolate_pos_encoding: bicubic to the size, no antialias"))
        assembly.normEps = Sourced(1e-5, "CLIP's LayerNorm eps")
        if let eps = vision?["layer_norm_eps"]?.double { assembly.normEps = Sourced(Float(eps), "config.json layer_norm_eps") }
        if let heads = vision?["num_attention_heads"]?.int {
            assembly.declaredHeads = Sourced(heads, "config.json num_attention_heads")
        } else if let cfg = openCLIP?["vision_cfg"], let width = cfg["width"]?.int {
            let headWidth = cfg["head_width"]?.int ?? 64
            assembly.declaredHeads = Sourced(width / max(1, headWidth), "open_clip_config.json vision_cfg width / head_width")
        } else if checkpoint["input_resolution"] != nil, let width = weights.shape("patch_embed.proj.weight")?.first {
            assembly.declaredHeads = Sourced(max(1, width / 64), "an OpenAI file: its loader's heads of width 64")
        }
        let activation: Sourced<VisionTransformer.FeedForward>
        if let flag = request.activation {
            activation = Sourced(flag, "--activation")
        } else if let act = vision?["hidden_act"]?.string {
            guard act == "quick_gelu" || act == "gelu" else {
                throw UnknownArchitecture(reason: "hidden_act '\(act)' (config.json): only GELU and QuickGELU are supported for CLIP", sampleNames: [])
            }
            activation = Sourced(act == "quick_gelu" ? .quickGELU : .gelu, "config.json hidden_act")
        } else if let quick = openCLIP?["quick_gelu"]?.bool {
            activation = Sourced(quick ? .quickGELU : .gelu, "open_clip_config.json model_cfg quick_gelu")
        } else if checkpoint["input_resolution"] != nil || checkpoint["context_length"] != nil {
            activation = Sourced(.quickGELU, "an OpenAI file (input_resolution, context_length): OpenAI's CLIPs use QuickGELU")
        } else {
            activation = Sourced(.gelu, "no config: OpenCLIP's default GELU (OpenAI's files use QuickGELU); set --activation if wrong")
        }
        assembly.feedForward = activation.value
        assembly.evidence.append("activation \(activation.value == .quickGELU ? "QuickGELU" : "GELU") (\(activation.origin))")
        assembly.statistics = .clip
        return try assembly.build(request, family: Self.familyName)
    }
}
