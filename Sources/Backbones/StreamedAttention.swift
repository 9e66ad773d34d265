import Tensors

/// Attention without its matrices, for inputs whose every block's attention would not fit.
///
/// A forward pass keeps each block's `[heads, T, T]` probabilities while their total stays
/// under `keptAttentionBudget` (a 224 or 448 image: 19 or 300 MB for ViT-S). Past that
/// (long or large images, up to the 4,096-token cap: 12 × 6 × 4097² floats = 4.8 GB) a
/// block's queries are taken a few rows at a time: softmax(q·Kᵀ) for those rows, times V,
/// and only the [CLS] row is kept. Memory is then O(T) per block rather than O(T²), and
/// nothing of T² size is ever allocated, so no page is faulted in and zeroed for it.
///
/// What the matrices served is computed again from the kept block inputs when asked:
/// a query's rows (`attentionRows`), and rollout's [CLS] row through block L as
/// e₀ᵀ Â_L ⋯ Â_0, one row-chunked pass per block (`meanAttentionProduct`).
extension VisionTransformer {
    /// Bytes of every block's attention together above which a pass keeps none of it.
    public static let keptAttentionBudget = 512 << 20
    /// Query rows per chunk: 128 × 4097 floats is 2 MB of scratch per thread.
    static let chunkRows = 128

    func keepsFullAttention(tokens: Int) -> Bool {
        let (square, overflow) = tokens.multipliedReportingOverflow(by: tokens)
        guard !overflow else { return false }
        let (bytes, overflow2) = square.multipliedReportingOverflow(by: 4 * config.heads * max(1, blocks.count))
        return !overflow2 && bytes <= Self.keptAttentionBudget
    }

    /// `forwardBlock` with the attention taken in row chunks; returns the [CLS] rows `[heads, T]`.
    func forwardBlockStreamed(_ block: Block, _ x: inout Tensor, grid: (height: Int, width: Int)) -> Tensor {
        let tokens = x.shape[0], d = config.width, heads = config.heads, headWidth = d / heads
        let qkv = queryKeyValue(block, x, grid: grid)
        var classRows = Tensor(uninitialized: [heads, tokens])
        var mixed = Tensor(uninitialized: [tokens, d])
        let scale = 1 / Float(headWidth).squareRoot()
        let rows = Self.chunkRows, chunks = (tokens + rows - 1) / rows
        qkv.scalars.withUnsafeBufferPointer { qkvBuffer in
            classRows.scalars.withUnsafeMutableBufferPointer { classBuffer in
                mixed.scalars.withUnsafeMutableBufferPointer { output in
                    nonisolated(unsafe) let base = qkvBuffer.baseAddress!
                    nonisolated(unsafe) let classBase = classBuffer.baseAddress!
                    nonisolated(unsafe) let outputBase = output.baseAddress!
                    ComputeThreads.parallelFor(heads * chunks) { items in
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * tokens)
                        defer { scratch.deallocate() }
                        for item in items {
                            let head = item / chunks, first = (item % chunks) * rows
                            let count = min(rows, tokens - first)
                            Self.attend(qkv: base, head: head, tokens: tokens, width: d, headWidth: headWidth, scale: scale,
                                        queries: first..<(first + count), scores: scratch, output: outputBase)
                            if first == 0 { (classBase + head * tokens).update(from: scratch, count: tokens) }
                        }
                    }
                }
            }
        }
        finishBlock(block, &x, mixed: mixed)
        return classRows
    }
}

extension VisionTransformer {
    /// vᵀ · mean_h(A_h) for block `block`'s attention A on its input, in row chunks: rows
    /// of the chunk where v is zero are skipped (rollout's first step reads one row).
    public func meanAttentionProduct(block index: Int, input x: Tensor, vector: [Float],
                                     grid: (height: Int, width: Int)) -> [Float] {
        let block = blocks[index]
        let tokens = x.shape[0], d = config.width, heads = config.heads, headWidth = d / heads
        precondition(vector.count == tokens)
        let qkv = queryKeyValue(block, x, grid: grid)
        let scale = 1 / Float(headWidth).squareRoot()
        let rows = Self.chunkRows, chunks = (tokens + rows - 1) / rows
        // One sum per head, added in head order afterwards, so that the thread count does
        // not change the result.
        var perHead = [Float](repeating: 0, count: heads * tokens)
        qkv.scalars.withUnsafeBufferPointer { qkvBuffer in
            vector.withUnsafeBufferPointer { vectorBuffer in
                perHead.withUnsafeMutableBufferPointer { sums in
                    nonisolated(unsafe) let base = qkvBuffer.baseAddress!
                    nonisolated(unsafe) let v = vectorBuffer.baseAddress!
                    nonisolated(unsafe) let sumBase = sums.baseAddress!
                    ComputeThreads.parallelFor(heads) { range in
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * tokens)
                        defer { scratch.deallocate() }
                        for head in range {
                            for chunk in 0..<chunks {
                                let first = chunk * rows, count = min(rows, tokens - first)
                                guard (first..<(first + count)).contains(where: { v[$0] != 0 }) else { continue }
                                Self.probabilities(qkv: base, head: head, tokens: tokens, width: d, headWidth: headWidth,
                                                   scale: scale, queries: first..<(first + count), into: scratch)
                                GEMM.multiplyVector(m: count, n: tokens, a: scratch, transpose: true,
                                                    x: v + first, y: sumBase + head * tokens, alpha: 1, beta: 1)
                            }
                        }
                    }
                }
            }
        }
        var mean = [Float](repeating: 0, count: tokens)
        for head in 0..<heads {
            for t in 0..<tokens { mean[t] += perHead[head * tokens + t] }
        }
        let inverse = 1 / Float(heads)
        return mean.map { $0 * inverse }
    }
}
