import CBLAS
import Tensors

/// The Cholesky factor of a symmetric positive definite float matrix, in blocks whose
/// updates are split across the compute threads.
///
/// LAPACK's `spotrf` runs on one thread here (BLAS is kept single-threaded, see
/// `ComputeThreads`), and OpenBLAS's own threads made it no faster at GMP's size (384:
/// 0.33–0.36 ms either way). Right-looking in blocks of `block` columns, each step factors
/// its diagonal block with `spotrf`, then the panel below it (`strsm`, rows split) and the
/// trailing triangle (`ssyrk` and `sgemm`, columns split into two parts of equal work) on
/// both threads; only the diagonal blocks, an eighth of the work at 384, stay serial.
enum BlockedCholesky {
    /// Columns per step.
    static let block = 96

    /// Factors `matrix` in place: column-major `size × size` (leading dimension `size`),
    /// lower triangle read and overwritten with L; the upper triangle is left alone.
    /// Returns false when a diagonal block is not positive definite.
    static func factor(_ matrix: UnsafeMutablePointer<Float>, size: Int) -> Bool {
        nonisolated(unsafe) let a = matrix
        let n = size
        var k = 0
        while k < n {
            let b = min(block, n - k)
            var order = Int32(b), lda = Int32(n), info: Int32 = 0
            var uplo = CChar(UInt8(ascii: "L"))
            spotrf_(&uplo, &order, a + k + k * n, &lda, &info)
            guard info == 0 else { return false }
            let rest = n - k - b
            guard rest > 0 else { return true }
            let (diagonal, panel, trailing) = (k + k * n, k + b + k * n, (k + b) * (n + 1))
            // L₂₁ = A₂₁ L₁₁⁻ᵀ, rows independent.
            ComputeThreads.parallelFor(rest, minimumPerThread: 32) { rows in
                cblas_strsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(rows.count), Int32(b), 1,
                            a + diagonal, Int32(n), a + panel + rows.lowerBound, Int32(n))
            }
            // A₂₂ −= L₂₁ L₂₁ᵀ (lower triangle): the first ~29% of its columns hold half of it.
            let cut = rest >= 64 && ComputeThreads.count > 1 ? Int((Double(rest) * (1 - 0.5.squareRoot())).rounded()) : rest
            ComputeThreads.parallelFor(cut < rest ? 2 : 1) { parts in
                for part in parts {
                    let columns = part == 0 ? 0..<cut : cut..<rest
                    // The triangle on the diagonal, then the block below it.
                    cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(columns.count), Int32(b), -1,
                                a + panel + columns.lowerBound, Int32(n), 1,
                                a + trailing + columns.lowerBound * (n + 1), Int32(n))
                    let below = rest - columns.upperBound
                    guard below > 0 else { continue }
                    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(below), Int32(columns.count), Int32(b), -1,
                                a + panel + columns.upperBound, Int32(n), a + panel + columns.lowerBound, Int32(n), 1,
                                a + trailing + columns.upperBound + columns.lowerBound * n, Int32(n))
                }
            }
            k += b
        }
        return true
    }
}
