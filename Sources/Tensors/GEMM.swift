import CBLAS

/// Matrix products through BLAS `sgemm`; the only place the engine multiplies matrices.
public enum GEMM {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major.
    /// `op(A)` is m×k (A stored k×m when `transposeA`), `op(B)` is k×n (B stored n×k when `transposeB`).
    /// Leading dimensions default to packed storage; pass them to address a block of
    /// columns inside a wider matrix (one attention head inside the fused qkv output).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, transposeA: Bool = false, lda: Int? = nil,
        b: UnsafePointer<Float>, transposeB: Bool = false, ldb: Int? = nil,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        let lda = lda ?? (transposeA ? m : k)
        let ldb = ldb ?? (transposeB ? k : n)
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(max(1, lda)), b, Int32(max(1, ldb)),
                    beta, c, Int32(max(1, ldc ?? n)))
    }
}

extension GEMM {
    /// y = alpha · op(A) · x + beta · y for a row-major m×n A (op(A) = Aᵀ when `transpose`).
    /// Matrix–vector products go to `sgemv`, which reads A in place where `sgemm` would
    /// first pack it.
    public static func multiplyVector(
        m: Int, n: Int, a: UnsafePointer<Float>, lda: Int? = nil, transpose: Bool = false,
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha,
                    a, Int32(lda ?? n), x, 1, beta, y, 1)
    }
}

extension Tensor {
    /// Matrix product `self · other` of rank-2 tensors.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[1] == other.shape[0],
                     "matmul shapes \(shape) and \(other.shape) do not chain")
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        var result = Tensor(zeros: [m, n])
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.scalars.withUnsafeMutableBufferPointer { c in
                    GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, b: b.baseAddress!,
                                  c: c.baseAddress!)
                }
            }
        }
        return result
    }

    /// `self · weightᵀ + bias`: a linear layer with PyTorch's `[out, in]` weight layout.
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(rank == 2 && weight.rank == 2 && shape[1] == weight.shape[1],
                     "linear: input \(shape) does not fit weight \(weight.shape)")
        let (m, k, n) = (shape[0], shape[1], weight.shape[0])
        var result = Tensor(zeros: [m, n])
        if let bias {
            precondition(bias.count == n, "linear: bias has \(bias.count) values, expected \(n)")
            result.scalars.withUnsafeMutableBufferPointer { c in
                for row in 0..<m {
                    for column in 0..<n { c[row * n + column] = bias.scalars[column] }
                }
            }
        }
        scalars.withUnsafeBufferPointer { a in
            weight.scalars.withUnsafeBufferPointer { b in
                result.scalars.withUnsafeMutableBufferPointer { c in
                    GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!,
                                  b: b.baseAddress!, transposeB: true,
                                  c: c.baseAddress!, beta: bias == nil ? 0 : 1)
                }
            }
        }
        return result
    }
}
