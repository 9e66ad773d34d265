import Checkpoints
import Tensors

/// The pre-norm ViT that timm's VisionTransformer and its relatives share (DeiT, DINO,
/// DINOv2 with LayerScale, registers and SwiGLU, SimPool ViTs without [CLS], transformers'
/// ViT / DeiT / DINOv2): fused qkv, exact GELU or SwiGLU. Families map their names onto
/// timm's, which this pass reads.
public struct VisionTransformer: Backbone {
    /// The feed-forward of every block.
    public enum FeedForward: String, Sendable {
        /// fc1 → exact GELU → fc2.
        case gelu
        /// DINOv2's SwiGLU: w12 gives [x₁ | x₂], then SiLU(x₁) ⊙ x₂ → w3.
        case swiglu
        /// fc1 → QuickGELU, x·σ(1.702x) (OpenAI's CLIP) → fc2.
        case quickGELU = "quick-gelu"
    }

    /// What the classifier reads from the final normalised tokens.
    public enum ClassifierInput: String, Sendable {
        case classToken
        /// timm `global_pool="avg"`: the mean of the patch tokens (through fc_norm when present).
        case meanOfPatches
        /// DINOv2's linear heads and transformers' Dinov2ForImageClassification: [CLS] beside the patch mean.
        case classTokenAndMeanOfPatches
    }

    public struct Config: Sendable, Equatable {
        public var width: Int
        public var depth: Int
        public var heads: Int
        public var patchSize: Int
        public var hasClassToken: Bool
        /// Prefix tokens after [CLS]: registers, storage or distillation tokens.
        public var registerCount: Int
        /// The grid the position table was trained for.
        public var positionGrid: (height: Int, width: Int)
        /// True when the table also has rows for the prefix tokens (timm's default, DeiT's
        /// distillation token); they are the first rows, for the first prefix tokens.
        public var positionsCoverPrefix: Bool
        public var positionResampling: PositionResampling
        public var normEps: Float
        public var classCount: Int?
        public var classifierInput: ClassifierInput
        public var feedForward: FeedForward = .gelu
        /// DINOv3's rotary position embedding, instead of (or beside) a position table.
        public var rope: RotaryEmbedding?

        public var prefixTokens: Int { (hasClassToken ? 1 : 0) + registerCount }

        public static func == (a: Config, b: Config) -> Bool {
            a.width == b.width && a.depth == b.depth && a.heads == b.heads && a.patchSize == b.patchSize
                && a.hasClassToken == b.hasClassToken && a.registerCount == b.registerCount
                && a.positionGrid == b.positionGrid && a.positionsCoverPrefix == b.positionsCoverPrefix
                && a.positionResampling == b.positionResampling && a.normEps == b.normEps
                && a.classCount == b.classCount && a.classifierInput == b.classifierInput && a.feedForward == b.feedForward
                && a.rope == b.rope
        }
    }

    struct Block: Sendable {
        let norm1Weight: Tensor, norm1Bias: Tensor
        /// The four products, their weights packed at load (see `PackedLinear`).
        let qkv: PackedLinear
        let proj: PackedLinear
        let layerScale1: Tensor?
        let norm2Weight: Tensor, norm2Bias: Tensor
        /// fc1 (or SwiGLU's w12) and fc2 (or w3).
        let fc1: PackedLinear
        let fc2: PackedLinear
        let layerScale2: Tensor?
    }

    public let config: Config
    public private(set) var summary: ArchitectureSummary
    /// The patch embedding as a linear layer on flattened patches: [width, 3·p·p].
    let patchEmbedding: PackedLinear
    let classToken: Tensor?      // [width]
    let registers: Tensor?       // [registers, width]
    let positions: Tensor?       // [rows, width]
    let blocks: [Block]
    /// CLIP's `ln_pre`: a LayerNorm on the embedded tokens before the first block.
    let normPreWeight: Tensor?, normPreBias: Tensor?
    let normWeight: Tensor?, normBias: Tensor?
    let fcNormWeight: Tensor?, fcNormBias: Tensor?
    let headWeight: Tensor?, headBias: Tensor?
    /// The position table resampled to the last grid asked for: the same grid comes back
    /// image after image, and the resampling was 0.5% of a 224-pixel pass, on one thread.
    let resampledPositions = LastValueCache<[Int], [Float]>()
    /// DeiT's distillation classifier on the second token; its logits are averaged with the
    /// [CLS] classifier's, as timm and transformers do at inference.
    let distillationWeight: Tensor?, distillationBias: Tensor?

    init(config: Config, summary: ArchitectureSummary, weights: WeightSource) throws {
        self.config = config
        self.summary = summary
        let d = config.width, p = config.patchSize
        patchEmbedding = PackedLinear(weight: try weights.tensor("patch_embed.proj.weight", shape: [d, 3, p, p]).reshaped([d, 3 * p * p]),
                                      bias: try weights.optional("patch_embed.proj.bias", shape: [d]))
        // [1, 1, d] in timm's files, [d] in CLIP's.
        if config.hasClassToken {
            let token = try weights.tensor("cls_token")
            guard token.count == d else {
                throw UnknownArchitecture(reason: "'\(weights.spelled("cls_token"))' has shape \(token.shape), expected [1, 1, \(d)]", sampleNames: [])
            }
            classToken = token.reshaped([d])
        } else {
            classToken = nil
        }
        registers = config.registerCount > 0
            ? try weights.tensor("reg_token", shape: [1, config.registerCount, d]).reshaped([config.registerCount, d]) : nil
        if let shape = weights.shape("pos_embed") {
            positions = try weights.tensor("pos_embed").reshaped([shape.count == 3 ? shape[1] : shape[0], d])
        } else {
            positions = nil
        }
        var blocks: [Block] = []
        for i in 0..<config.depth {
            let b = "blocks.\(i)."
            let (inner, outer) = config.feedForward == .swiglu ? ("mlp.w12", "mlp.w3") : ("mlp.fc1", "mlp.fc2")
            let hidden = weights.shape(b + inner + ".weight")?[0] ?? 4 * d
            let output = config.feedForward == .swiglu ? hidden / 2 : hidden
            blocks.append(Block(
                norm1Weight: try weights.tensor(b + "norm1.weight", shape: [d]),
                norm1Bias: try weights.tensor(b + "norm1.bias", shape: [d]),
                qkv: PackedLinear(weight: try weights.tensor(b + "attn.qkv.weight", shape: [3 * d, d]),
                                  bias: try weights.optional(b + "attn.qkv.bias", shape: [3 * d])),
                proj: PackedLinear(weight: try weights.tensor(b + "attn.proj.weight", shape: [d, d]),
                                   bias: try weights.optional(b + "attn.proj.bias", shape: [d])),
                layerScale1: try weights.optional(b + "ls1.gamma", shape: [d]),
                norm2Weight: try weights.tensor(b + "norm2.weight", shape: [d]),
                norm2Bias: try weights.tensor(b + "norm2.bias", shape: [d]),
                fc1: PackedLinear(weight: try weights.tensor(b + inner + ".weight", shape: [hidden, d]),
                                  bias: try weights.optional(b + inner + ".bias", shape: [hidden])),
                fc2: PackedLinear(weight: try weights.tensor(b + outer + ".weight", shape: [d, output]),
                                  bias: try weights.optional(b + outer + ".bias", shape: [d])),
                layerScale2: try weights.optional(b + "ls2.gamma", shape: [d])))
        }
        self.blocks = blocks
        normPreWeight = try weights.optional("norm_pre.weight", shape: [d])
        normPreBias = try weights.optional("norm_pre.bias", shape: [d])
        normWeight = try weights.optional("norm.weight", shape: [d])
        normBias = try weights.optional("norm.bias", shape: [d])
        fcNormWeight = try weights.optional("fc_norm.weight", shape: [d])
        fcNormBias = try weights.optional("fc_norm.bias", shape: [d])
        if let classes = config.classCount {
            let inputs = config.classifierInput == .classTokenAndMeanOfPatches ? 2 * d : d
            headWeight = try weights.tensor("head.weight", shape: [classes, inputs])
            headBias = try weights.optional("head.bias", shape: [classes])
            let distilled = config.classifierInput == .classToken && config.hasClassToken && config.registerCount > 0
            distillationWeight = distilled ? try weights.optional("head_dist.weight", shape: [classes, d]) : nil
            distillationBias = distillationWeight != nil ? try weights.optional("head_dist.bias", shape: [classes]) : nil
        } else {
            headWeight = nil
            headBias = nil
            distillationWeight = nil
            distillationBias = nil
        }
    }

    func with(summary: ArchitectureSummary) -> VisionTransformer {
        var copy = self
        copy.summary = summary
        return copy
    }

    public func forward(pixels: [Float], height: Int, width: Int) -> Trace {
        forward(pixels: pixels, height: height, width: width, attention: .automatic)
    }

    /// Whether a forward pass keeps every block's attention matrices (see StreamedAttention.swift).
    public enum AttentionRetention: Sendable {
        /// Kept while they fit `keptAttentionBudget`, streamed past it.
        case automatic
        case kept
        case streamed
    }

    public func forward(pixels: [Float], height: Int, width: Int, attention retention: AttentionRetention) -> Trace {
        let p = config.patchSize, d = config.width
        precondition(height % p == 0 && width % p == 0, "input \(width)×\(height) is not a multiple of the patch size \(p)")
        precondition(pixels.count == 3 * height * width)
        let gridH = height / p, gridW = width / p
        let patches = gridH * gridW
        let prefix = config.prefixTokens
        let tokens = prefix + patches

        // Patch embedding: a stride-p convolution is a GEMM over flattened patches.
        var columns = [Float](repeating: 0, count: patches * 3 * p * p)
        for gy in 0..<gridH {
            for gx in 0..<gridW {
                let row = (gy * gridW + gx) * 3 * p * p
                for c in 0..<3 {
                    for ky in 0..<p {
                        let source = c * height * width + (gy * p + ky) * width + gx * p
                        let target = row + (c * p + ky) * p
                        for kx in 0..<p { columns[target + kx] = pixels[source + kx] }
                    }
                }
            }
        }
        var embedded = patchEmbedding(Tensor(shape: [patches, 3 * p * p], scalars: columns))

        // Position embedding, resampled to this grid when it differs from the trained one.
        var x = Tensor(zeros: [tokens, d])
        if let positions {
            let (positionPrefix, sourceGrid) = positionLayout(rows: positions.shape[0], grid: (gridH, gridW))
            let grid = resampledPositions.value(for: [gridH, gridW]) {
                config.positionResampling.resample(Array(positions.scalars[(positionPrefix * d)...]), channels: d,
                                                   from: sourceGrid, to: (gridH, gridW))
            }
            for i in 0..<(patches * d) { embedded.scalars[i] += grid[i] }
            placePrefixTokens(into: &x, positionRows: positionPrefix)
        } else {
            placePrefixTokens(into: &x, positionRows: 0)
        }
        x.scalars.replaceSubrange((prefix * d)..<(tokens * d), with: embedded.scalars)

        if let normPreWeight {
            x = x.layerNormLastAxis(weight: normPreWeight, bias: normPreBias, eps: config.normEps)
        }
        let embeddingTokens = x
        var layers: [Trace.Layer] = []
        layers.reserveCapacity(blocks.count)
        // Large inputs keep no attention matrix (see StreamedAttention.swift).
        let keepsAttention: Bool
        switch retention {
        case .automatic: keepsAttention = keepsFullAttention(tokens: tokens)
        case .kept: keepsAttention = true
        case .streamed: keepsAttention = false
        }
        for block in blocks {
            if keepsAttention {
                let attention = forwardBlock(block, &x, grid: (gridH, gridW))
                layers.append(Trace.Layer(tokens: x, gridHeight: gridH, gridWidth: gridW, prefixTokens: prefix, attention: attention))
            } else {
                let classRows = forwardBlockStreamed(block, &x, grid: (gridH, gridW))
                layers.append(Trace.Layer(tokens: x, gridHeight: gridH, gridWidth: gridW, prefixTokens: prefix, attention: nil,
                                          classAttention: classRows))
            }
        }
        let normed = normWeight.map { x.layerNormLastAxis(weight: $0, bias: normBias, eps: config.normEps) } ?? x
        let final = Trace.Layer(tokens: normed, gridHeight: gridH, gridWidth: gridW, prefixTokens: prefix,
                                attention: layers.last?.attention, classAttention: layers.last?.classAttention)
        let rollout = config.hasClassToken && keepsAttention ? AttentionRollout.classRows(layers.compactMap(\.attention)) : nil
        return Trace(layers: layers, final: final, logits: classify(final: normed, raw: x, prefix: prefix),
                     hasClassToken: config.hasClassToken, rolloutRows: rollout, embedding: embeddingTokens, attentionSource: self)
    }

    /// [CLS] then the other prefix tokens at the head of `x`; the first `positionRows` of them
    /// get the position table's leading rows (DINOv2: [CLS] only; timm's default and DeiT: all).
    func placePrefixTokens(into x: inout Tensor, positionRows: Int) {
        let d = config.width
        var prefixRows: [Float] = classToken?.scalars ?? []
        if let registers { prefixRows += registers.scalars }
        for i in 0..<prefixRows.count {
            let token = i / d
            x.scalars[i] = prefixRows[i] + (token < positionRows ? positions!.scalars[i] : 0)
        }
    }

    /// How many leading rows of the position table belong to prefix tokens, and the grid of
    /// the rest. A table that fits this input exactly is used as is (non-square grids
    /// included); otherwise the layout detected at load time is resampled.
    func positionLayout(rows: Int, grid: (Int, Int)) -> (prefix: Int, grid: (height: Int, width: Int)) {
        let patches = grid.0 * grid.1
        let prefix = config.prefixTokens
        if prefix > 0, rows == prefix + patches { return (prefix, grid) }
        if rows == patches { return (0, grid) }
        if config.hasClassToken, rows == 1 + patches { return (1, grid) }
        let covered = config.positionsCoverPrefix ? rows - config.positionGrid.height * config.positionGrid.width : 0
        return (covered, config.positionGrid)
    }

    /// One pre-norm block in place; returns the attention probabilities `[heads, T, T]`.
    func forwardBlock(_ block: Block, _ x: inout Tensor, grid: (height: Int, width: Int)) -> Tensor {
        let tokens = x.shape[0], d = config.width, heads = config.heads, headWidth = d / heads
        let qkv = queryKeyValue(block, x, grid: grid)                                // [T, 3d]
        var probabilities = Tensor(uninitialized: [heads, tokens, tokens])
        var mixed = Tensor(uninitialized: [tokens, d])
        let scale = 1 / Float(headWidth).squareRoot()
        qkv.scalars.withUnsafeBufferPointer { qkvBuffer in
            probabilities.scalars.withUnsafeMutableBufferPointer { attention in
                mixed.scalars.withUnsafeMutableBufferPointer { output in
                    nonisolated(unsafe) let base = qkvBuffer.baseAddress!
                    nonisolated(unsafe) let scoresBase = attention.baseAddress!
                    nonisolated(unsafe) let outputBase = output.baseAddress!
                    // Heads are independent: one per thread, each product on its thread
                    // (a 257×257×64 product is too small to split well).
                    ComputeThreads.parallelFor(heads) { range in
                        for head in range {
                            Self.attend(qkv: base, head: head, tokens: tokens, width: d, headWidth: headWidth, scale: scale,
                                        queries: 0..<tokens, scores: scoresBase + head * tokens * tokens, output: outputBase)
                        }
                    }
                }
            }
        }
        finishBlock(block, &x, mixed: mixed)
        return probabilities
    }

    /// The block after attention: output projection and residual, then the feed-forward.
    func finishBlock(_ block: Block, _ x: inout Tensor, mixed: Tensor) {
        addResidual(&x, block.proj(mixed), scale: block.layerScale1)
        let h2 = x.layerNormLastAxis(weight: block.norm2Weight, bias: block.norm2Bias, eps: config.normEps)
        let hidden: Tensor
        switch config.feedForward {
        case .gelu: hidden = block.fc1(h2, gelu: true)
        case .swiglu: hidden = Self.gatedSiLU(block.fc1(h2))
        case .quickGELU: hidden = Self.quickGELU(block.fc1(h2))
        }
        addResidual(&x, block.fc2(hidden), scale: block.layerScale2)
    }

    /// LayerNorm, the fused qkv projection, and the rotary embedding of the patch tokens'
    /// queries and keys where the model has one.
    func queryKeyValue(_ block: Block, _ x: Tensor, grid: (height: Int, width: Int)) -> Tensor {
        let h = x.layerNormLastAxis(weight: block.norm1Weight, bias: block.norm1Bias, eps: config.normEps)
        var qkv = block.qkv(h)
        if let rope = config.rope {
            rope.rotate(&qkv, width: config.width, heads: config.heads, prefix: config.prefixTokens, grid: grid)
        }
        return qkv
    }

    /// Head `head`'s softmax(q_h · k_hᵀ / √d_h), read in place from the fused qkv rows.
    /// Head `head`'s attention for the `queries` rows: their probabilities into `scores`,
    /// then out_h = P · v_h for those rows into the head's columns of `output` (`[T, d]`).
    static func attend(qkv base: UnsafePointer<Float>, head: Int, tokens: Int, width d: Int, headWidth: Int, scale: Float,
                       queries: Range<Int>, scores: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        probabilities(qkv: base, head: head, tokens: tokens, width: d, headWidth: headWidth, scale: scale,
                      queries: queries, into: scores)
        GEMM.multiply(m: queries.count, n: headWidth, k: tokens,
                      a: scores, b: base + 2 * d + head * headWidth, ldb: 3 * d,
                      c: output + queries.lowerBound * d + head * headWidth, ldc: d, parallel: false)
    }

    /// `queries`: the rows to compute (all by default), written from `scores` on.
    static func probabilities(qkv base: UnsafePointer<Float>, head: Int, tokens: Int, width d: Int, headWidth: Int,
                              scale: Float, queries: Range<Int>? = nil, into scores: UnsafeMutablePointer<Float>) {
        let rows = queries ?? 0..<tokens
        GEMM.multiply(m: rows.count, n: tokens, k: headWidth,
                      a: base + rows.lowerBound * 3 * d + head * headWidth, lda: 3 * d,
                      b: base + d + head * headWidth, transposeB: true, ldb: 3 * d,
                      c: scores, alpha: scale, parallel: false)
        for row in 0..<rows.count { RowOps.softmaxRow(scores + row * tokens, count: tokens) }
    }

    /// `[T, 2H]` = [x₁ | x₂] per row → `[T, H]` = SiLU(x₁) ⊙ x₂, SiLU(v) = v / (1 + e^−v).
    static func gatedSiLU(_ both: Tensor) -> Tensor {
        let (rows, hidden) = (both.shape[0], both.shape[1] / 2)
        var result = Tensor(uninitialized: [rows, hidden])
        for r in 0..<rows {
            for c in 0..<hidden {
                let gate = both.scalars[r * 2 * hidden + c], value = both.scalars[r * 2 * hidden + hidden + c]
                result.scalars[r * hidden + c] = gate / (1 + VectorMath.exp(-gate)) * value
            }
        }
        return result
    }

    /// x·σ(1.702x) elementwise.
    static func quickGELU(_ x: Tensor) -> Tensor {
        var result = x
        for i in 0..<result.count {
            let v = x.scalars[i]
            result.scalars[i] = v / (1 + VectorMath.exp(-1.702 * v))
        }
        return result
    }

    /// x += scale ⊙ update (per channel), or x += update without LayerScale.
    func addResidual(_ x: inout Tensor, _ update: Tensor, scale: Tensor?) {
        let d = config.width
        x.scalars.withUnsafeMutableBufferPointer { target in
            update.scalars.withUnsafeBufferPointer { source in
                if let scale {
                    scale.scalars.withUnsafeBufferPointer { VectorMath.addRows(target, source, columns: d, weights: $0) }
                } else {
                    VectorMath.addRows(target, source, columns: d, weights: nil)
                }
            }
        }
    }

    func classify(final normed: Tensor, raw: Tensor, prefix: Int) -> [Float]? {
        guard let headWeight else { return nil }
        let d = config.width
        var pooled: Tensor
        switch config.classifierInput {
        case .classTokenAndMeanOfPatches:
            let patches = normed.shape[0] - prefix
            var input = Array(normed.scalars[0..<d]) + [Float](repeating: 0, count: d)
            for t in prefix..<normed.shape[0] {
                for c in 0..<d { input[d + c] += normed.scalars[t * d + c] }
            }
            for c in 0..<d { input[d + c] /= Float(patches) }
            pooled = Tensor(shape: [1, 2 * d], scalars: input)
        case .meanOfPatches:
            // timm global_pool="avg": mean of the patch tokens of the un-normed output, then fc_norm.
            let source = fcNormWeight == nil ? normed : raw
            let patches = source.shape[0] - prefix
            var mean = [Float](repeating: 0, count: d)
            for t in prefix..<source.shape[0] {
                for c in 0..<d { mean[c] += source.scalars[t * d + c] }
            }
            pooled = Tensor(shape: [1, d], scalars: mean.map { $0 / Float(patches) })
            if let fcNormWeight {
                pooled = pooled.layerNormLastAxis(weight: fcNormWeight, bias: fcNormBias, eps: config.normEps)
            }
        case .classToken:
            pooled = Tensor(shape: [1, d], scalars: Array(normed.scalars[0..<d]))
            if let distillationWeight {
                let second = Tensor(shape: [1, d], scalars: Array(normed.scalars[d..<(2 * d)]))
                let first = pooled.linear(weight: headWeight, bias: headBias).scalars
                let other = second.linear(weight: distillationWeight, bias: distillationBias).scalars
                return zip(first, other).map { ($0 + $1) / 2 }
            }
        }
        return pooled.linear(weight: headWeight, bias: headBias).scalars
    }
}

extension VisionTransformer: AttentionRecomputing {
    /// Block `block`'s attention for its input tokens: the first half of `forwardBlock`.
    public func attention(block index: Int, input x: Tensor, grid: (height: Int, width: Int)) -> Tensor {
        let block = blocks[index]
        let tokens = x.shape[0], d = config.width, heads = config.heads, headWidth = d / heads
        let qkv = queryKeyValue(block, x, grid: grid)
        var probabilities = Tensor(uninitialized: [heads, tokens, tokens])
        let scale = 1 / Float(headWidth).squareRoot()
        qkv.scalars.withUnsafeBufferPointer { qkvBuffer in
            probabilities.scalars.withUnsafeMutableBufferPointer { attention in
                nonisolated(unsafe) let base = qkvBuffer.baseAddress!
                nonisolated(unsafe) let scoresBase = attention.baseAddress!
                ComputeThreads.parallelFor(heads) { range in
                    for head in range {
                        Self.probabilities(qkv: base, head: head, tokens: tokens, width: d, headWidth: headWidth,
                                           scale: scale, into: scoresBase + head * tokens * tokens)
                    }
                }
            }
        }
        return probabilities
    }

    /// One token's rows: softmax(q_t · K_hᵀ / √d_h) per head, from the same projection.
    public func attentionRows(block index: Int, input x: Tensor, token: Int, grid: (height: Int, width: Int)) -> Tensor {
        let block = blocks[index]
        let tokens = x.shape[0], d = config.width, heads = config.heads, headWidth = d / heads
        let qkv = queryKeyValue(block, x, grid: grid)
        var rows = Tensor(uninitialized: [heads, tokens])
        let scale = 1 / Float(headWidth).squareRoot()
        qkv.scalars.withUnsafeBufferPointer { qkvBuffer in
            rows.scalars.withUnsafeMutableBufferPointer { output in
                let base = qkvBuffer.baseAddress!
                for head in 0..<heads {
                    // One row of q_h · k_hᵀ: a matrix–vector product over the keys.
                    GEMM.multiply(m: 1, n: tokens, k: headWidth,
                                  a: base + token * 3 * d + head * headWidth, lda: 3 * d,
                                  b: base + d + head * headWidth, transposeB: true, ldb: 3 * d,
                                  c: output.baseAddress! + head * tokens, alpha: scale, parallel: false)
                    RowOps.softmaxRow(output.baseAddress! + head * tokens, count: tokens)
                }
            }
        }
        return rows
    }
}
