import Tensors

/// The [CLS] token's attention: the CLS query row of the chosen block, per head or averaged
/// over heads, with the CLS and register columns dropped and the rest renormalised (for
/// the mean: once, after averaging the heads' raw rows).
/// The pooled vector is the layer's [CLS] token.
public struct CLSPooling: PoolingMethod {
    public init() {}
    public var name: String { "cls" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard input.attention != nil || input.classAttention != nil, input.prefixTokens > 0,
              let classToken = input.classToken else {
            throw PoolingError("cls: needs a transformer with a [CLS] token and its attention (this layer has none)")
        }
        // Query row 0 ([CLS]) of head h starts at h·stride in either layout.
        let rows = input.classAttention ?? input.attention!
        let heads = rows.shape[0], tokens = rows.shape.last!
        let stride = input.classAttention != nil ? tokens : tokens * tokens
        guard tokens == input.prefixTokens + input.tokenCount else {
            throw PoolingError("cls: attention covers \(tokens) tokens, features \(input.prefixTokens + input.tokenCount)")
        }
        let selected = try selectedHeads(input.head, heads: heads)
        // The heads' raw rows are averaged first and the patch columns renormalised once
        // (`attn[:, 0, prefix:].mean(0)`): a head that looks mostly at [CLS] or a register
        // weighs in with the little it gives the patches.
        var weights = [Double](repeating: 0, count: input.tokenCount)
        for h in selected {
            let row = h * stride + input.prefixTokens
            for i in 0..<input.tokenCount { weights[i] += Double(rows.scalars[row + i]) }
        }
        return PoolingResult(pooled: classToken, map: normalizedMap(weights))
    }
}

/// Attention rollout (Abnar & Zuidema): per block Â = ½·mean_heads(A) + ½·I with rows
/// renormalised (a no-op for softmax rows), R = Â_L ⋯ Â_1, and the map is R's [CLS] row over the patches,
/// renormalised. The pooled vector is Σ a_i x_i.
public struct RolloutPooling: PoolingMethod {
    public init() {}
    public var name: String { "rollout" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard input.prefixTokens > 0, input.rolloutRow != nil || !input.attentionStack.isEmpty else {
            throw PoolingError("rollout: needs a transformer with a [CLS] token and its attention")
        }
        let tokens = input.rolloutRow?.count ?? input.attentionStack[0].shape[1]
        guard tokens == input.prefixTokens + input.tokenCount else {
            throw PoolingError("rollout: attention covers \(tokens) tokens, features \(input.prefixTokens + input.tokenCount)")
        }
        let row = input.rolloutRow ?? Self.classRow(input.attentionStack, tokens: tokens)
        let weights = Array(row[input.prefixTokens...])
        let map = normalizedMap(weights.map { max(Double($0), 0) })
        return PoolingResult(pooled: weightedSum(input.features, map), map: map)
    }

    /// Only the [CLS] row of the product is needed: carry r = e₀ᵀ Â_L ⋯ Â_1 from the
    /// left, r·Â = ½ (r·mean_h A + r): one matrix-vector product per head and block.
    /// Softmax rows already sum to 1, so Â's rows do too and their renormalisation is
    /// the identity (to rounding); it is not recomputed, which halves the memory read.
    static func classRow(_ stack: [Tensor], tokens: Int) -> [Float] {
        var row = [Float](repeating: 0, count: tokens)
        row[0] = 1
        for attention in stack.reversed() {
            let heads = attention.shape[0]
            var mixed = row.map { 0.5 * $0 }
            attention.scalars.withUnsafeBufferPointer { a in
                for h in 0..<heads {
                    GEMM.multiplyVector(m: tokens, n: tokens, a: a.baseAddress! + h * tokens * tokens, transpose: true,
                                        x: row, y: &mixed, alpha: 0.5 / Float(heads), beta: 1)
                }
            }
            row = mixed
        }
        return row
    }
}

func selectedHeads(_ selection: HeadSelection, heads: Int) throws -> [Int] {
    switch selection {
    case .mean: return Array(0..<heads)
    case .index(let i):
        guard i >= 0 && i < heads else { throw PoolingError("head \(i + 1) does not exist (this layer has \(heads))") }
        return [i]
    }
}
