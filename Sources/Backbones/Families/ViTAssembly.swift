import Checkpoints

/// The part every ViT family shares once its names are timm's: dimensions from shapes,
/// heads by `HeadCount`'s order, prefix tokens, the position table's grid, LayerScale,
/// the classifier, and the accounting of every tensor left unread.
struct ViTAssembly {
    /// The family's own name for the layout, shown in the model's name.
    var layout: String
    var weights: WeightSource
    var evidence: [String] = []
    /// Heads the source declares (config.json, metadata).
    var declaredHeads: Sourced<Int>?
    var normEps: Sourced<Float> = Sourced(1e-6, "timm's default")
    var resampling: Sourced<PositionResampling>
    /// The canonical name of the extra prefix tokens (`reg_token`, `[1, n, width]`).
    var classifierInput: VisionTransformer.ClassifierInput = .classToken
    var feedForward: VisionTransformer.FeedForward = .gelu
    var statistics: InputStatistics?
    var rope: RotaryEmbedding?

    func build(_ request: LoadRequest, family: String) throws -> VisionTransformer {
        var evidence = self.evidence
        let prefix = weights.prefix
        if !prefix.isEmpty { evidence.append("weights under prefix '\(prefix)' (stripped)") }
        guard let patch = weights.shape("patch_embed.proj.weight"), patch.count == 4, patch[1] == 3, patch[2] == patch[3] else {
            throw UnknownArchitecture(reason: "\(weights.spelled("patch_embed.proj.weight")) is not [width, 3, p, p]", sampleNames: [])
        }
        let width = patch[0], patchSize = patch[2]
        evidence.append("patch embedding \(patch): width \(width), patch \(patchSize) (names)")

        let blockIndices = Set(weights.names.compactMap { name -> Int? in
            guard name.hasPrefix("blocks.") else { return nil }
            return Int(name.dropFirst("blocks.".count).prefix { $0.isNumber })
        })
        let depth = blockIndices.count
        guard depth > 0, blockIndices == Set(0..<depth) else {
            throw UnknownArchitecture(reason: "blocks are not numbered 0…n−1 (found \(blockIndices.sorted().prefix(8)))", sampleNames: [])
        }
        evidence.append("\(depth) blocks (names)")

        let heads = try HeadCount.resolve(width: width, flag: request.numHeads, declared: declaredHeads, facts: request.facts)
        evidence.append("heads \(heads.heads) (\(heads.origin))")

        let hasClassToken = weights.has("cls_token")
        evidence.append(hasClassToken ? "cls_token present (names)" : "no cls_token: a ViT without [CLS] (names)")
        var registers = 0
        if let shape = weights.shape("reg_token") {
            guard shape.count == 3, shape[0] == 1, shape[2] == width else {
                throw UnknownArchitecture(reason: "\(weights.spelled("reg_token")) has shape \(shape), not [1, n, \(width)]", sampleNames: [])
            }
            registers = shape[1]
            evidence.append("\(registers) extra prefix tokens after [CLS]: \(weights.spelled("reg_token")) (names)")
        }
        let prefixTokens = (hasClassToken ? 1 : 0) + registers

        var grid = (height: 0, width: 0)
        var coversPrefix = false
        if let shape = weights.shape("pos_embed"), let rows = shape.count == 3 ? shape[1] : shape.first {
            if prefixTokens > 0, let side = ModelLoader.squareRoot(rows - prefixTokens) {
                grid = (side, side)
                coversPrefix = true
            } else if let side = ModelLoader.squareRoot(rows) {
                grid = (side, side)
            } else if hasClassToken, let side = ModelLoader.squareRoot(rows - 1) {
                grid = (side, side)
                coversPrefix = true
            } else {
                throw UnknownArchitecture(reason: "the position table has \(rows) rows, which fit no square grid plus \(prefixTokens) prefix tokens", sampleNames: [])
            }
            evidence.append("position table \(rows) rows: \(grid.height)×\(grid.width) grid"
                + (coversPrefix ? " + \(rows - grid.height * grid.width) prefix rows" : "") + " (names)")
            evidence.append("positions resampled: \(resampling.value.explanation) (\(resampling.origin))")
        }

        let layerScale = weights.has("blocks.0.ls1.gamma")
        if layerScale { evidence.append("LayerScale in every block (names)") }
        if feedForward == .swiglu { evidence.append("SwiGLU feed-forward (names)") }
        if weights.has("norm_pre.weight") { evidence.append("a LayerNorm before the first block (names)") }
        evidence.append("LayerNorm eps \(normEps.value) (\(normEps.origin))")
        // A classifier after an attention-pool head reads that head's output, which the
        // backbone does not compute: it is left unread (listed) rather than fed the wrong input.
        let pooledHead = weights.has("attn_pool.latent")
        let classes = pooledHead ? nil : weights.shape("head.weight")?[0]
        if pooledHead, weights.has("head.weight") {
            evidence.append("a classifier after the attention-pool head: not run, so no labels (names)")
        }
        if let classes { evidence.append("\(classes)-class classifier on \(classifierInput.rawValue) (names)") }
        if classes != nil, weights.has("head_dist.weight") {
            evidence.append("distillation classifier on the second token, its logits averaged with the [CLS] one's (names)")
        }
        let meanPooled = classifierInput == .meanOfPatches || weights.has("fc_norm.weight") || (!hasClassToken && classes != nil)
        let simpool = SimPoolHeadNames.find(in: request.checkpoint) != nil
        if simpool { evidence.append("SimPool pooling head present (names)") }

        let config = VisionTransformer.Config(
            width: width, depth: depth, heads: heads.heads, patchSize: patchSize, hasClassToken: hasClassToken,
            registerCount: registers, positionGrid: grid, positionsCoverPrefix: coversPrefix,
            positionResampling: resampling.value, normEps: normEps.value, classCount: classes,
            classifierInput: classifierInput == .classToken && meanPooled ? .meanOfPatches : classifierInput,
            feedForward: feedForward, rope: rope)
        let size = ["192": "Ti", "384": "S", "768": "B", "1024": "L", "1280": "H", "1536": "g"][String(width)] ?? "\(width)-wide"
        let name = "ViT-\(size)/\(patchSize) (\(layout))"
        // Build first, so that the accounting sees what the model really read.
        func summary(_ harmless: [String]) -> ArchitectureSummary {
            var summary = ArchitectureSummary(
                family: .vit, familyName: family, name: name, layerCount: depth, width: width, heads: heads.heads,
                headsGuessed: heads.guessed, patchSize: patchSize, classCount: classes, hasSimPoolHead: simpool,
                hasClassToken: hasClassToken, evidence: evidence, stripPrefix: prefix, unusedNames: harmless)
            summary.statistics = statistics
            return summary
        }
        let model = try VisionTransformer(config: config, summary: summary([]), weights: weights)
        let harmless = try TensorAccounting.check(weights, depth: depth, family: family)
        return model.with(summary: summary(harmless))
    }
}
