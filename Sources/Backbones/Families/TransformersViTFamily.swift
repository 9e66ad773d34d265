import Checkpoints

/// Hugging Face transformers' ViTs as `save_pretrained` writes them: `ViTModel`,
/// `ViTForImageClassification`, `DeiTModel` / `DeiTForImageClassification…`, `Dinov2Model`,
/// `Dinov2WithRegistersModel` and their classifiers. Names such as
/// `encoder.layer.N.attention.attention.query` (with or without `vit.` / `dinov2.` …) are
/// mapped onto timm's; q, k and v are fused into qkv. Heads, LayerNorm eps, registers and
/// the activation come from config.json; positions are resampled as each model's
/// `interpolate_pos_encoding` does (bicubic to the size, with antialias for DINOv2 with
/// registers only).
struct TransformersViTFamily: ModelFamily {
    static let familyName = "Hugging Face transformers ViT / DeiT / DINOv2"
    var name: String { Self.familyName }

    /// The `base_model_prefix` of each supported model, as classifier checkpoints nest it.
    static let modelPrefixes = ["dinov2_with_registers.", "dinov2.", "deit.", "vit."]
    static let patchName = "embeddings.patch_embeddings.projection.weight"

    func recognise(_ request: LoadRequest) -> Recognition? {
        guard let prefix = WeightSource.prefix(of: Self.patchName, in: request.checkpoint) else { return nil }
        let container = Self.modelPrefixes.reduce(prefix) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
        return Recognition(prefix: container, evidence: "embeddings.patch_embeddings.projection and encoder.layer.N: transformers' names")
    }

    enum Kind: String {
        case vit, deit, dinov2, dinov2WithRegisters = "dinov2_with_registers"

        var interpolation: Sourced<PositionResampling> {
            switch self {
            case .dinov2WithRegisters:
                return Sourced(.antialiasedBicubic, "transformers' Dinov2WithRegisters: bicubic to the size, antialias")
            default:
                return Sourced(.bicubic, "transformers' \(rawValue) interpolate_pos_encoding: bicubic to the size, no antialias")
            }
        }
    }

    /// transformers' names (model prefix stripped) → timm's.
    static func timmName(_ name: String) -> String? {
        var rest = Substring(name)
        for model in modelPrefixes where rest.hasPrefix(model) { rest = rest.dropFirst(model.count); break }
        let fixed: [String: String] = [
            "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
            "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
            "embeddings.cls_token": "cls_token", "embeddings.position_embeddings": "pos_embed",
            "embeddings.register_tokens": "reg_token", "embeddings.distillation_token": "reg_token",
            "embeddings.mask_token": "mask_token",
            "layernorm.weight": "norm.weight", "layernorm.bias": "norm.bias",
            "classifier.weight": "head.weight", "classifier.bias": "head.bias",
            "cls_classifier.weight": "head.weight", "cls_classifier.bias": "head.bias",
            "distillation_classifier.weight": "head_dist.weight", "distillation_classifier.bias": "head_dist.bias",
        ]
        if let mapped = fixed[String(rest)] { return mapped }
        guard rest.hasPrefix("encoder.layer.") else { return rest == Substring(name) ? nil : String(rest) }
        return WeightSource.timmBlockName(rest, blocks: "encoder.layer.", parts: [
            ("attention.attention.query.", "attn.q."), ("attention.attention.key.", "attn.k."),
            ("attention.attention.value.", "attn.v."), ("attention.output.dense.", "attn.proj."),
            ("layernorm_before.", "norm1."), ("layernorm_after.", "norm2."), ("norm1.", "norm1."), ("norm2.", "norm2."),
            ("intermediate.dense.", "mlp.fc1."), ("output.dense.", "mlp.fc2."), ("mlp.fc1.", "mlp.fc1."), ("mlp.fc2.", "mlp.fc2."),
            ("mlp.weights_in.", "mlp.w12."), ("mlp.weights_out.", "mlp.w3."),
            ("layer_scale1.lambda1", "ls1.gamma"), ("layer_scale2.lambda1", "ls2.gamma"),
        ])
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        let checkpoint = request.checkpoint, facts = request.facts
        let weights = WeightSource(checkpoint: checkpoint, prefix: recognition.prefix, naming: "transformers' names",
                                   rename: Self.timmName)
        var depth = 0
        while weights.has("blocks.\(depth).attn.q.weight") { depth += 1 }
        for block in 0..<depth {
            for part in ["weight", "bias"] {
                weights.fuse("blocks.\(block).attn.qkv.\(part)", from: ["q", "k", "v"].map { "blocks.\(block).attn.\($0).\(part)" })
            }
        }
        let kind = Self.kind(facts: facts, weights: weights)
        var evidence = [recognition.evidence, "model type \(kind.rawValue)" + (facts.configString("model_type").map { " (\($0.origin))" } ?? " (names)")]
        if !facts.architectures.isEmpty { evidence.append("architectures \(facts.architectures.joined(separator: ", ")) (config.json)") }

        if let activation = facts.configString("hidden_act"), activation.value != "gelu" {
            throw UnknownArchitecture(reason: "hidden_act '\(activation.value)' (\(activation.origin)): only exact GELU is supported for transformers' ViTs", sampleNames: [])
        }
        if let layers = facts.configInt("num_hidden_layers"), layers.value != depth {
            throw UnknownArchitecture(reason: "\(layers.origin) says \(layers.value) layers but the weights have \(depth)", sampleNames: [])
        }
        let registers = weights.shape("reg_token")?[1] ?? 0
        if let declared = facts.configInt("num_register_tokens"), kind == .dinov2WithRegisters, declared.value != registers {
            throw UnknownArchitecture(reason: "\(declared.origin) says \(declared.value) registers but the weights have \(registers)", sampleNames: [])
        }
        let swiglu = weights.has("blocks.0.mlp.w12.weight")
        if let declared = facts.configBool("use_swiglu_ffn"), declared.value != swiglu {
            throw UnknownArchitecture(reason: "\(declared.origin) is \(declared.value) but the weights \(swiglu ? "have" : "lack") SwiGLU parts", sampleNames: [])
        }

        let layout = "transformers \(kind.rawValue)" + (registers > 0 && kind != .deit ? " with registers" : "")
        var assembly = ViTAssembly(layout: layout, weights: weights, evidence: evidence, resampling: kind.interpolation)
        assembly.declaredHeads = facts.configInt("num_attention_heads")
        if let eps = facts.configDouble("layer_norm_eps") {
            assembly.normEps = Sourced(Float(eps.value), eps.origin)
        } else {
            assembly.normEps = kind == .vit || kind == .deit
                ? Sourced(1e-12, "transformers' default for \(kind.rawValue)") : Sourced(1e-6, "transformers' default for \(kind.rawValue)")
        }
        assembly.feedForward = swiglu ? .swiglu : .gelu
        if kind == .dinov2 || kind == .dinov2WithRegisters { assembly.classifierInput = .classTokenAndMeanOfPatches }
        return try assembly.build(request, family: Self.familyName)
    }

    static func kind(facts: SourceFacts, weights: WeightSource) -> Kind {
        if let type = facts.configString("model_type").flatMap({ Kind(rawValue: $0.value) }) { return type }
        let original = weights.checkpoint.names
        if original.contains(where: { $0.hasPrefix(weights.prefix + "dinov2_with_registers.") }) { return .dinov2WithRegisters }
        if weights.has("blocks.0.ls1.gamma") { return weights.has("reg_token") ? .dinov2WithRegisters : .dinov2 }
        if original.contains(where: { $0.hasSuffix("embeddings.distillation_token") }) { return .deit }
        return .vit
    }
}
