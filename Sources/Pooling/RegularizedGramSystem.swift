import CBLAS
import Tensors

/// The systems generalized max pooling solves, (G + λI) z = b, with G the smaller Gram
/// matrix of the features X (`[n, d]`): XᵀX when n > d, X Xᵀ otherwise.
///
/// Accuracy comes from double precision, speed from single: G is formed and factored
/// (Cholesky) in float, twice the vector lanes of double and no double copy of X, and that
/// factor only preconditions conjugate gradients run in double against the exact operator,
/// z ↦ Xᵀ(X z) + λz summed in double. So the answer is the double-precision solution even
/// for a small λ, where a float solve alone loses the digits the map is made of (measured:
/// 2e-5 relative error at λ = 0.5); with the default λ on DINOv2 features it takes two
/// iterations. (Measured on a 32×32×384 layer, one thread: 8.0 ms in double, 2.9 ms so.)
/// If the float matrix cannot be factored, or the iteration stalls, the system is solved
/// from a Gram matrix formed in double instead.
///
/// It does not depend on λ, so the explorer keeps the last one (`GramCache`) and a λ
/// change costs one float factorization and a few matrix–vector products.
public final class RegularizedGramSystem: Sendable {
    let rows: Int, columns: Int
    /// The side of G: min(n, d).
    let size: Int
    /// True when G = XᵀX (n > d).
    let tall: Bool
    /// X, `[n, d]`.
    let features: Tensor
    /// G's upper triangle (row-major), formed in float: as LAPACK reads it, column-major,
    /// the lower triangle, which its Cholesky factors fastest (OpenBLAS `spotrf` at 384×384:
    /// 0.42 ms lower, 0.60 ms upper, means of 50).
    let gram: [Float]

    init(features x: Tensor) {
        (rows, columns) = (x.shape[0], x.shape[1])
        tall = rows > columns
        size = min(rows, columns)
        features = x
        gram = Self.upperGram(x, tall: tall)
    }

    /// The upper triangle of XᵀX (`tall`) or X Xᵀ by `ssyrk`, row-major. With two compute
    /// threads and a large matrix the triangle is cut in two pieces of equal work: the
    /// top-left triangle of side s/√2 (rounded) on one thread; the block right of it and the
    /// small bottom-right triangle on the other.
    static func upperGram(_ x: Tensor, tall: Bool) -> [Float] {
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

    /// z = (G + λI)⁻¹ b, in double.
    func solve(lambda: Double, _ b: [Double]) throws -> [Double] {
        try solveCountingIterations(lambda: lambda, b).values
    }

    /// The solution and the conjugate-gradient iterations it took; nil iterations when it
    /// came from the double factorization instead.
    func solveCountingIterations(lambda: Double, _ b: [Double]) throws -> (values: [Double], iterations: Int?) {
        precondition(b.count == size)
        guard let factor = floatFactor(lambda: lambda) else { return (try exactSolve(lambda: lambda, b), nil) }
        // The preconditioner: the float factor's solution, in double.
        let roughSolve = { (r: [Double]) -> [Double] in
            var z = r.map(Float.init)
            Self.choleskySolve(factor, &z, size: self.size)
            return z.map(Double.init)
        }
        // Preconditioned conjugate gradients from the float solution.
        var z = roughSolve(b)
        var r = zip(b, apply(z, lambda: lambda)).map { $0 - $1 }
        var s = roughSolve(r)
        var p = s
        var rs = dot(r, s)
        let target = 1e-12 * norm(b)
        for iteration in 0..<100 {
            if norm(r) <= target { return (z, iteration) }
            let q = apply(p, lambda: lambda)
            let step = rs / dot(p, q)
            guard step.isFinite, step > 0 else { break }
            var change = 0.0
            for i in 0..<size {
                z[i] += step * p[i]
                r[i] -= step * q[i]
                change = max(change, abs(step * p[i]))
            }
            // At working precision the residual stops falling; the steps tell.
            if change <= 1e-15 * (z.map(abs).max() ?? 0) { return (z, iteration + 1) }
            s = roughSolve(r)
            let next = dot(r, s)
            let ratio = next / rs
            rs = next
            for i in 0..<size { p[i] = s[i] + ratio * p[i] }
        }
        return (try exactSolve(lambda: lambda, b), nil)
    }

    /// X z (n values) or Xᵀ z (d values), summed in double.
    func multiply(_ z: [Double], transposed: Bool) -> [Double] {
        features.scalars.withUnsafeBufferPointer { x in
            z.withUnsafeBufferPointer { z in
                transposed
                    ? MixedPrecisionProducts.columns(x.baseAddress!, n: rows, d: columns, z.baseAddress!)
                    : MixedPrecisionProducts.rows(x.baseAddress!, n: rows, d: columns, z.baseAddress!)
            }
        }
    }

    /// (G + λI) z with G applied as products with X, never formed: XᵀX in one pass over X,
    /// X Xᵀ in two (Xᵀz must be complete before X can multiply it).
    private func apply(_ z: [Double], lambda: Double) -> [Double] {
        let product: [Double]
        if tall {
            product = features.scalars.withUnsafeBufferPointer { x in
                z.withUnsafeBufferPointer { MixedPrecisionProducts.gram(x.baseAddress!, n: rows, d: columns, $0.baseAddress!) }
            }
        } else {
            product = multiply(multiply(z, transposed: true), transposed: false)
        }
        return zip(product, z).map { $0 + lambda * $1 }
    }

    /// The float Cholesky factor of G + λI (`BlockedCholesky`, on the compute threads), or
    /// nil when rounding left the float matrix indefinite. Row-major, it holds Lᵀ in its
    /// upper triangle: row i is L's column i.
    private func floatFactor(lambda: Double) -> [Float]? {
        var matrix = gram
        let shift = Float(lambda)
        for i in 0..<size { matrix[i * size + i] += shift }
        // Row-major upper = column-major lower.
        let factored = matrix.withUnsafeMutableBufferPointer { BlockedCholesky.factor($0.baseAddress!, size: size) }
        return factored ? matrix : nil
    }

    /// Solves L Lᵀ x = rhs in place, L being the factor as `floatFactor` leaves it (row i
    /// holding L's column i from the diagonal on): forward, each solved value taken out of
    /// the values below it, along its row; backward, each value's row against the part
    /// already solved. Both walk rows, which are contiguous, sixteen values at a time
    /// (LAPACK's `spotrs` took 77 µs here for what is 0.3 MFLOP, a quarter of each
    /// conjugate-gradient step).
    static func choleskySolve(_ factor: [Float], _ rhs: inout [Float], size: Int) {
        typealias Lanes = SIMD16<Float>
        factor.withUnsafeBufferPointer { lBuffer in
            rhs.withUnsafeMutableBufferPointer { xBuffer in
                let (l, x) = (lBuffer.baseAddress!, xBuffer.baseAddress!)
                // L y = rhs
                for j in 0..<size {
                    let row = l + j * size
                    x[j] /= row[j]
                    let value = Lanes(repeating: x[j])
                    var k = j + 1
                    while k + 16 <= size {
                        var target = UnsafeRawPointer(x + k).loadUnaligned(as: Lanes.self)
                        target.addProduct(-value, UnsafeRawPointer(row + k).loadUnaligned(as: Lanes.self))
                        UnsafeMutableRawPointer(x + k).storeBytes(of: target, as: Lanes.self)
                        k += 16
                    }
                    while k < size {
                        x[k] -= row[k] * x[j]
                        k += 1
                    }
                }
                // Lᵀ x = y
                for i in stride(from: size - 1, through: 0, by: -1) {
                    let row = l + i * size
                    var sums = Lanes()
                    var k = i + 1
                    while k + 16 <= size {
                        sums.addProduct(UnsafeRawPointer(row + k).loadUnaligned(as: Lanes.self),
                                        UnsafeRawPointer(x + k).loadUnaligned(as: Lanes.self))
                        k += 16
                    }
                    var total = sums.sum()
                    while k < size {
                        total += row[k] * x[k]
                        k += 1
                    }
                    x[i] = (x[i] - total) / row[i]
                }
            }
        }
    }

    /// The system from a Gram matrix formed and factored in double (`dsyrk`, `dposv`).
    func exactSolve(lambda: Double, _ b: [Double]) throws -> [Double] {
        var matrix = [Double](repeating: 0, count: size * size)
        cblas_dsyrk(CblasRowMajor, CblasLower, tall ? CblasTrans : CblasNoTrans, Int32(size), Int32(max(rows, columns)),
                    1, features.scalars.map(Double.init), Int32(columns), 0, &matrix, Int32(size))
        for i in 0..<size { matrix[i * size + i] += lambda }
        var z = b
        var n = Int32(size), nrhs: Int32 = 1, lda = Int32(size), ldb = Int32(size), info: Int32 = 0
        var uplo = CChar(UInt8(ascii: "U"))
        dposv_(&uplo, &n, &nrhs, &matrix, &lda, &z, &ldb, &info)
        guard info == 0 else { throw PoolingError("gmp: the system is not positive definite (LAPACK info \(info)); raise lambda") }
        return z
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double { cblas_ddot(Int32(a.count), a, 1, b, 1) }
    private func norm(_ a: [Double]) -> Double { cblas_dnrm2(Int32(a.count), a, 1) }
}
