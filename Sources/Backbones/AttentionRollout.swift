import Tensors

/// Attention rollout's [CLS] rows, computed once per forward pass for every block.
///
/// Rollout through block L reads every block's attention up to L, T² values per head: at
/// 448 pixels that is 300 MB, tens of milliseconds each time the explorer asks for it.
/// Done here, on the forward worker, it costs one pass over the attention (mean over heads)
/// plus L matrix–vector products on the T×T means, and the method itself becomes a lookup.
enum AttentionRollout {
    /// `rows[L]` = e₀ᵀ Â_L ⋯ Â_0 with Â = ½·mean_heads(A) + ½·I (rows of Â sum to 1 already,
    /// so the usual renormalisation is the identity). Length T each.
    static func classRows(_ attentions: [Tensor]) -> [[Float]] {
        guard let first = attentions.first else { return [] }
        let tokens = first.shape[1]
        let means = attentions.map(meanOverHeads)
        var rows: [[Float]] = []
        for last in means.indices {
            var row = [Float](repeating: 0, count: tokens)
            row[0] = 1
            for block in stride(from: last, through: 0, by: -1) {
                var next = row.map { 0.5 * $0 }
                means[block].withUnsafeBufferPointer { a in
                    GEMM.multiplyVector(m: tokens, n: tokens, a: a.baseAddress!, transpose: true,
                                        x: row, y: &next, alpha: 0.5, beta: 1)
                }
                row = next
            }
            rows.append(row)
        }
        return rows
    }

    /// `[heads, T, T]` → `[T, T]`, rows split across the compute threads.
    static func meanOverHeads(_ attention: Tensor) -> [Float] {
        let (heads, tokens) = (attention.shape[0], attention.shape[1])
        let plane = tokens * tokens
        // Not zeroed first: the first head is copied in, one pass less over the T² values
        // (at 448 pixels this function went from 1.9% of a pass to 1.5%).
        return [Float](unsafeUninitializedCapacity: plane) { targetBuffer, initialized in
            attention.scalars.withUnsafeBufferPointer { sourceBuffer in
                nonisolated(unsafe) let (source, target) = (sourceBuffer.baseAddress!, targetBuffer.baseAddress!)
                ComputeThreads.parallelFor(tokens, minimumPerThread: max(1, 16384 / tokens)) { rows in
                    let span = rows.lowerBound * tokens..<rows.upperBound * tokens
                    (target + span.lowerBound).initialize(from: source + span.lowerBound, count: span.count)
                    for head in 1..<max(1, heads) {
                        let plane = source + head * plane
                        for i in span { target[i] += plane[i] }
                    }
                    let scale = 1 / Float(heads)
                    for i in span { target[i] *= scale }
                }
            }
            initialized = plane
        }
    }
}
