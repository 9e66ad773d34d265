import CBFloat16Gram
import CBLAS
import Tensors

/// The matrix GMP's solver factors as its preconditioner: the upper triangle (row-major) of
/// the features' smaller Gram matrix, XᵀX when X (`[n, d]`) is tall, X Xᵀ otherwise.
///
/// Forming it is most of a first GMP on a layer (XᵀX of 1024×384 tokens: 151 MFLOP), and
/// the solver corrects whatever it gets wrong, so it may be formed from rounded values:
/// where the CPU has AVX-512 BF16, from bfloat16 products summed in float, at twice the
/// float rate (0.8 ms against `ssyrk`'s 1.75 ms on one thread). A coarser preconditioner
/// costs the solver iterations: with the default λ on DINOv2 features three instead of
/// one, at about 0.1 ms each. The wide case (a CNN's few positions of many channels) is
/// small and keeps `ssyrk`.
enum PreconditionerGram {
    /// How the products are taken.
    enum Products: Sendable {
        /// Float values, `ssyrk`.
        case float
        /// Values rounded to bfloat16 (AVX-512 BF16), sums in float.
        case bfloat16
        /// bfloat16 for a tall X where the CPU has it, float otherwise.
        case fastest
    }

    /// Whether this CPU has the bfloat16 dot products and AVX-512 is not kept off
    /// (`SIMPOOL_ISA=avx2`).
    static let bfloat16Available = spx_bf16_gram_available() != 0 && InstructionSet.usesAVX512

    /// The upper triangle and, where the bfloat16 packing summed them on the way, X's
    /// column sums (Xᵀ1, in double).
    static func make(_ x: Tensor, products: Products) -> (gram: [Float], columnSums: [Double]?) {
        let tall = x.shape[0] > x.shape[1]
        let bfloat16: Bool
        switch products {
        case .float: bfloat16 = false
        case .bfloat16:
            precondition(bfloat16Available && tall, "bfloat16 Gram products need AVX-512 BF16 and a tall matrix")
            bfloat16 = true
        case .fastest: bfloat16 = bfloat16Available && tall
        }
        if bfloat16 { return bfloat16Upper(x) }
        return (floatUpper(x, tall: tall), nil)
    }

    /// XᵀX from bfloat16 products, its rows cut in parts of equal work across the compute
    /// threads (row i holds size − i entries, so the cuts sit where the remaining triangle
    /// halves). Each part writes its own rows.
    static func bfloat16Upper(_ x: Tensor) -> (gram: [Float], columnSums: [Double]) {
        let (n, d) = (x.shape[0], x.shape[1])
        let stride = spx_bf16_packed_stride(d)
        // Every word and sum is written by the packing, padding included.
        let words = (n + 1) / 2 * stride + 16
        var sums = [Double](unsafeUninitializedCapacity: d) { sums, initialized in initialized = d }
        let packed = [UInt32](unsafeUninitializedCapacity: words) { packed, initialized in
            x.scalars.withUnsafeBufferPointer { source in
                sums.withUnsafeMutableBufferPointer { spx_bf16_pack(source.baseAddress!, n, d, packed.baseAddress!, $0.baseAddress!) }
            }
            initialized = words
        }
        var gram = [Float](repeating: 0, count: d * d)
        let parts = ComputeThreads.count > 1 && d >= 96 ? ComputeThreads.count : 1
        // Part k starts where the rows above it hold k/parts of the triangle, on a 6-row block.
        let cuts = (0...parts).map { k -> Int in
            let start = Double(d) * (1 - (1 - Double(k) / Double(parts)).squareRoot())
            return k == parts ? d : min(d, Int((start / 6).rounded()) * 6)
        }
        packed.withUnsafeBufferPointer { packedBuffer in
            gram.withUnsafeMutableBufferPointer { target in
                nonisolated(unsafe) let (p, g) = (packedBuffer.baseAddress!, target.baseAddress!)
                ComputeThreads.parallelFor(parts) { indices in
                    for k in indices where cuts[k] < cuts[k + 1] {
                        spx_bf16_gram_rows(p, n, d, cuts[k], cuts[k + 1], g)
                    }
                }
            }
        }
        return (gram, sums)
    }

    /// The upper triangle of XᵀX (`tall`) or X Xᵀ by `ssyrk`, row-major. With two compute
    /// threads and a large matrix the triangle is cut in two pieces of equal work: the
    /// top-left triangle of side s/√2 (rounded) on one thread; the block right of it and the
    /// small bottom-right triangle on the other.
    static func floatUpper(_ x: Tensor, tall: Bool) -> [Float] {
        let (n, d) = (x.shape[0], x.shape[1])
        let size = min(n, d), depth = max(n, d)
        var gram = [Float](repeating: 0, count: size * size)
        let transpose = tall ? CblasTrans : CblasNoTrans
        x.scalars.withUnsafeBufferPointer { source in
            gram.withUnsafeMutableBufferPointer { target in
                nonisolated(unsafe) let (x, g) = (source.baseAddress!, target.baseAddress!)
                // Row or column `start` of X's small side, as an offset into X.
                let offset = { (start: Int) in tall ? start : start * d }
                func triangle(_ range: Range<Int>) {
                    guard !range.isEmpty else { return }
                    cblas_ssyrk(CblasRowMajor, CblasUpper, transpose, Int32(range.count), Int32(depth), 1,
                                x + offset(range.lowerBound), Int32(d), 0, g + range.lowerBound * (size + 1), Int32(size))
                }
                let split = Int((Double(size) / 2.squareRoot()).rounded())
                guard ComputeThreads.count > 1, size >= 64, 2.0 * Double(size * size) * Double(depth) >= 4e6 else {
                    triangle(0..<size)
                    return
                }
                ComputeThreads.parallelFor(2) { parts in
                    for part in parts {
                        if part == 0 {
                            triangle(0..<split)
                        } else {
                            // G[0..<split, split..<size]: the columns right of the first triangle.
                            GEMM.multiply(m: split, n: size - split, k: depth,
                                          a: x, transposeA: tall, lda: d,
                                          b: x + offset(split), transposeB: !tall, ldb: d,
                                          c: g + split, ldc: size, parallel: false)
                            triangle(split..<size)
                        }
                    }
                }
            }
        }
        return gram
    }
}
