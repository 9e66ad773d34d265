import Checkpoints

/// timm's VisionTransformer names (`patch_embed.proj`, `blocks.N.attn.qkv`): timm and DeiT
/// files and hub folders, DINO's checkpoints (`teacher`, `backbone.`), SimPool's ViTs
/// without [CLS], and the bundled model.
struct TimmViTFamily: ModelFamily {
    static let familyName = "timm ViT (timm, DeiT, DINO, SimPool)"
    var name: String { Self.familyName }

    func recognise(_ request: LoadRequest) -> Recognition? {
        WeightSource.prefix(of: "patch_embed.proj.weight", in: request.checkpoint)
            .map { Recognition(prefix: $0, evidence: "patch_embed.proj and blocks.N.attn.qkv: timm's ViT names") }
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        let checkpoint = request.checkpoint, facts = request.facts
        // DeiT's distillation token is a second prefix token with its own position row.
        let weights = WeightSource(checkpoint: checkpoint, prefix: recognition.prefix) { name in
            name == "dist_token" ? "reg_token" : nil
        }
        let dino = recognition.prefix.contains("backbone") || checkpoint.weightsEntry == "teacher" || checkpoint.weightsEntry == "student"
        let resampling: Sourced<PositionResampling>
        if let declared = facts.metadata["pos_interpolation"].flatMap(PositionResampling.init(rawValue:)) {
            resampling = Sourced(declared, "the file's metadata pos_interpolation")
        } else if dino {
            resampling = Sourced(.bicubicWithOffset, "DINO's interpolate_pos_encoding, for a DINO training checkpoint")
        } else {
            resampling = Sourced(.antialiasedBicubic, "timm's resample_abs_pos_embed")
        }
        let layerScale = weights.has("blocks.0.ls1.gamma"), registers = weights.has("reg_token")
        let layout = layerScale ? (registers ? "DINOv2 layout with registers" : "DINOv2 layout")
            : (weights.has("cls_token") ? "timm/DeiT layout" : "SimPool layout, no [CLS]")
        var assembly = ViTAssembly(layout: layout, weights: weights, evidence: [recognition.evidence], resampling: resampling)
        if let heads = facts.metadata["num_heads"].flatMap(Int.init) {
            assembly.declaredHeads = Sourced(heads, "the file's metadata num_heads")
        } else if let heads = facts.config?["model_args"]?["num_heads"]?.int {
            assembly.declaredHeads = Sourced(heads, "config.json model_args num_heads")
        }
        if let eps = facts.metadata["norm_eps"].flatMap(Float.init) {
            assembly.normEps = Sourced(eps, "the file's metadata norm_eps")
        }
        if dino { assembly.evidence.append("DINO training checkpoint: entry '\(checkpoint.weightsEntry ?? "top level")', prefix '\(recognition.prefix)'") }
        // timm's hub folders say how the classifier pools.
        if let pool = facts.configString("global_pool") {
            switch pool.value {
            case "avg": assembly.classifierInput = .meanOfPatches
            case "token", "": assembly.classifierInput = .classToken
            default: break
            }
            assembly.evidence.append("classifier pooling '\(pool.value)' (\(pool.origin))")
        }
        return try assembly.build(request, family: Self.familyName)
    }
}
