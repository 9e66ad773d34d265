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
        // The heads' raw rows are fused first and the patch columns renormalised once
        // (`attn[:, 0, prefix:].mean(0)`): a head that looks mostly at [CLS] or a register
        // weighs in with the little it gives the patches.
        let weights = try rows.scalars.withUnsafeBufferPointer {
            try input.head.fuse($0, heads: heads, stride: stride, offset: input.prefixTokens, count: input.tokenCount)
        }
        return PoolingResult(pooled: classToken, map: normalizedMap(weights))
    }
}

/// Attention rollout (Abnar & Zuidema), as vit-explain defines its options: per block the
/// heads' attention fused elementwise (`fusion` mean, max or min), the smallest fraction
/// `discard` of the fused matrix's entries set to zero except [CLS]→[CLS], Â = (A + I)/2
/// with each row divided by its own sum, R = Â_L ⋯ Â_1; the map is R's [CLS] row (or, in
/// patch-query mode, the query token's row) over the patches, renormalised. The pooled
/// vector is Σ a_i x_i. With the defaults (mean, no discard) and [CLS], the row the
/// forward pass computed is used as it is.
public struct RolloutPooling: PoolingMethod {
    public let discard: Double
    public let fusion: HeadSelection

    public init(discard: Double = 0, fusion: HeadSelection = .mean) {
        precondition(discard >= 0 && discard < 1 && fusion.isFusion)
        self.discard = discard
        self.fusion = fusion
    }

    public var name: String { "rollout" }
    public var parameterText: String {
        var parts: [String] = []
        if discard > 0 { parts.append("discard=\(formatParameter(discard))") }
        if fusion != .mean { parts.append("fusion=\(fusion)") }
        return parts.joined(separator: ",")
    }

    public var usesPrecomputedRow: Bool { discard == 0 && fusion == .mean }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        var input = input
        if usesPrecomputedRow, input.rolloutRow == nil { input.rolloutRow = input.rolloutRowSource?() }
        let fused = input.rolloutTransitions
        // Rollout starts from [CLS] (or a query patch): registers without [CLS] are no start.
        guard input.prefixTokens > 0, input.classToken != nil || input.queryPatch != nil, input.isTransformer else {
            throw PoolingError("rollout: needs a transformer with a [CLS] token and its attention")
        }
        let tokens = input.rolloutRow?.count ?? fused.map { Int(Double($0[0].count).squareRoot()) }
            ?? input.attentionStack.first?.shape[1] ?? input.prefixTokens + input.tokenCount
        guard tokens == input.prefixTokens + input.tokenCount else {
            throw PoolingError("rollout: attention covers \(tokens) tokens, features \(input.prefixTokens + input.tokenCount)")
        }
        let start = input.queryPatch.map { input.prefixTokens + $0 } ?? 0
        let row: [Float]
        if usesPrecomputedRow, let precomputed = input.rolloutRow {
            row = precomputed
        } else if let fused {
            row = Self.row(transitions: fused, tokens: tokens, start: start)
        } else {
            guard !input.attentionStack.isEmpty else {
                throw PoolingError("rollout: \(parameterText.isEmpty ? "a patch query" : parameterText) needs every block's "
                                   + "attention matrix, which is not kept at \(tokens) tokens (rollout's default options, or a lower --resolution, work)")
            }
            row = Self.row(transitions: input.attentionStack.map { transitionMatrix($0) }, tokens: tokens, start: start)
        }
        let weights = Array(row[input.prefixTokens...])
        let map = normalizedMap(weights.map { max(Double($0), 0) })
        return PoolingResult(pooled: weightedSum(input.features, map), map: map)
    }

    /// Row `start` of the product: r = e_startᵀ Â_L ⋯ Â_1, carried from the left (one
    /// matrix–vector product per block).
    static func row(transitions stack: [[Float]], tokens: Int, start: Int) -> [Float] {
        var row = [Float](repeating: 0, count: tokens)
        row[start] = 1
        for transition in stack.reversed() {
            var next = [Float](repeating: 0, count: tokens)
            transition.withUnsafeBufferPointer { a in
                GEMM.multiplyVector(m: tokens, n: tokens, a: a.baseAddress!, transpose: true, x: row, y: &next, alpha: 1, beta: 0)
            }
            row = next
        }
        return row
    }

    /// Â = (F + I) / 2 with each row divided by its own sum, F the fused (and discarded)
    /// matrix: what one block contributes to the product.
    public func transitionMatrix(_ attention: Tensor) -> [Float] {
        var matrix = fusedMatrix(attention)
        let tokens = attention.shape[1]
        for i in 0..<tokens {
            let base = i * tokens
            matrix[base + i] += 1
            var sum: Double = 0
            for j in 0..<tokens { sum += Double(matrix[base + j]) }
            let scale = Float(1 / sum)
            for j in 0..<tokens { matrix[base + j] *= scale }
        }
        return matrix
    }

    /// The heads fused elementwise, then the smallest `discard` fraction of all T² entries
    /// set to zero ([CLS]→[CLS], entry 0, is never dropped), as vit-explain does.
    public func fusedMatrix(_ attention: Tensor) -> [Float] {
        let (heads, tokens) = (attention.shape[0], attention.shape[1])
        let plane = tokens * tokens
        var fused = attention.scalars.withUnsafeBufferPointer { values in
            (try? fusion.fuse(values, heads: heads, stride: plane, offset: 0, count: plane))!.map(Float.init)
        }
        let dropped = Int(Double(plane) * discard)
        if dropped > 0 {
            // The `dropped` smallest entries, ties taken in index order: everything below the
            // dropped-th smallest value, then as many entries equal to it as are still due.
            // A selection finds that value in linear time (sorting a 448-pixel image's
            // million entries per block took most of a second).
            let threshold = Self.selectSmallest(fused, rank: dropped - 1)
            var below = 0
            for value in fused where value < threshold { below += 1 }
            var ties = dropped - below
            for index in 0..<plane {
                let value = fused[index]
                guard value < threshold || (value == threshold && ties > 0) else { continue }
                if value == threshold { ties -= 1 }
                if index != 0 { fused[index] = 0 }
            }
        }
        return fused
    }

    /// The value of rank `rank` (0-based) among `values` in ascending order (quickselect
    /// with median-of-three pivots).
    static func selectSmallest(_ values: [Float], rank: Int) -> Float {
        var items = values
        var low = 0, high = items.count - 1
        while low < high {
            let middle = low + (high - low) / 2
            let pivot = Swift.max(Swift.min(items[low], items[middle]), Swift.min(Swift.max(items[low], items[middle]), items[high]))
            var i = low, j = high
            while i <= j {
                while items[i] < pivot { i += 1 }
                while items[j] > pivot { j -= 1 }
                if i <= j {
                    items.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if rank <= j { high = j } else if rank >= i { low = i } else { return items[rank] }
        }
        return items[rank]
    }
}

/// Patch-query mode for transformers: the query patch's token's attention row at the
/// chosen block, over the patches, per head or fused (mean of raw rows, max or min) and
/// renormalised once, as the [CLS] map is. The pooled vector is the query token itself.
public struct PatchQueryAttention: PoolingMethod {
    public init() {}
    public var name: String { "query" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard let patch = input.queryPatch, let rows = input.queryAttention else {
            throw PoolingError("query: needs a query patch and its attention (a transformer)")
        }
        let (heads, tokens) = (rows.shape[0], rows.shape[1])
        guard tokens == input.prefixTokens + input.tokenCount, patch >= 0, patch < input.tokenCount else {
            throw PoolingError("query: patch \(patch) is outside the \(input.tokenCount) patches")
        }
        let weights = try rows.scalars.withUnsafeBufferPointer {
            try input.head.fuse($0, heads: heads, stride: tokens, offset: input.prefixTokens, count: input.tokenCount)
        }
        let d = input.channels
        return PoolingResult(pooled: Array(input.features.scalars[(patch * d)..<((patch + 1) * d)]), map: normalizedMap(weights))
    }
}

/// Patch-query mode by features: the cosine similarity of the query patch's features
/// with every patch's at the chosen layer (any model, CNNs included). The map keeps the
/// positive part, renormalised; the signed similarities are kept for export.
public struct PatchSimilarity: PoolingMethod {
    public init() {}
    public var name: String { "similarity" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard let patch = input.queryPatch, patch >= 0, patch < input.tokenCount else {
            throw PoolingError("similarity: needs a query patch inside the \(input.tokenCount) patches")
        }
        let (n, d) = (input.tokenCount, input.channels)
        let x = input.features.scalars
        func norm(_ i: Int) -> Double {
            var sum = 0.0
            for c in 0..<d { sum += Double(x[i * d + c]) * Double(x[i * d + c]) }
            return sum.squareRoot()
        }
        let queryNorm = norm(patch)
        var cosine = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var dot = 0.0
            for c in 0..<d { dot += Double(x[i * d + c]) * Double(x[patch * d + c]) }
            let denominator = norm(i) * queryNorm
            cosine[i] = denominator > 0 ? dot / denominator : 0
        }
        let map = normalizedMap(cosine.map { max($0, 0) })
        return PoolingResult(pooled: Array(x[(patch * d)..<((patch + 1) * d)]), map: map, signedWeights: cosine.map(Float.init))
    }
}
