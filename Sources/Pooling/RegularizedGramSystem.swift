import CBLAS
import Foundation
import Tensors

/// The systems generalized max pooling solves, (G + λI) z = b, with G the smaller Gram
/// matrix of the features X (`[n, d]`): XᵀX when n > d, X Xᵀ otherwise.
///
/// Accuracy comes from double precision, speed from single: G is formed and factored
/// (Cholesky) in float or coarser (`PreconditionerGram`), and that factor only
/// preconditions conjugate gradients run in double against the exact operator,
/// z ↦ Xᵀ(X z) + λz summed in double. The iteration stops when the answers GMP returns
/// are provably within `tolerance` of the double-precision ones (see `converged`), so even
/// a small λ, where a float solve alone loses the digits the map is made of (measured:
/// 2e-5 relative error at λ = 0.5), gets them right; with the default λ on DINOv2
/// features it takes three iterations from a bfloat16 Gram matrix (one from a float one).
/// If a bfloat16 matrix cannot be factored (a λ below its rounding), a float one is formed
/// and kept; if that cannot be factored either, or the iteration stalls, the system is
/// solved from a Gram matrix formed in double instead.
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
    /// G's upper triangle (row-major), from `PreconditionerGram`: as LAPACK reads it,
    /// column-major, the lower triangle, which its Cholesky factors fastest (OpenBLAS
    /// `spotrf` at 384×384: 0.42 ms lower, 0.60 ms upper, means of 50).
    let gram: [Float]
    /// Whether `gram` came from bfloat16 products.
    let coarseGram: Bool
    /// The right-hand side GMP solves for: Xᵀ1 (tall) or 1, in double.
    let rightHandSide: [Double]
    /// A float Gram matrix, formed when the coarse one could not be factored for some λ
    /// (on DINOv2 features: λ = 0.01), and used for every λ after.
    nonisolated(unsafe) private var floatGram: [Float]?
    private let floatGramLock = NSLock()

    /// Normwise relative error the answers are held to: below float rounding (6e-8), as
    /// pooled vectors and maps are stored in float.
    static let tolerance = 1e-8

    convenience init(features x: Tensor, products: PreconditionerGram.Products = .fastest) {
        self.init(features: x, preconditioner: PreconditionerGram.make(x, products: products))
    }

    /// With the preconditioner's Gram matrix given: a bfloat16 one comes with X's column sums.
    init(features x: Tensor, preconditioner: (gram: [Float], columnSums: [Double]?)) {
        (rows, columns) = (x.shape[0], x.shape[1])
        tall = rows > columns
        size = min(rows, columns)
        features = x
        let (gram, columnSums) = preconditioner
        self.gram = gram
        coarseGram = columnSums != nil
        if !tall {
            rightHandSide = [Double](repeating: 1, count: size)
        } else if let columnSums {
            rightHandSide = columnSums
        } else {
            let (n, d) = (rows, columns)
            rightHandSide = x.scalars.withUnsafeBufferPointer { source in
                [Double](repeating: 1, count: n).withUnsafeBufferPointer {
                    MixedPrecisionProducts.columns(source.baseAddress!, n: n, d: d, $0.baseAddress!)
                }
            }
        }
    }

    /// GMP's answer for λ: the patch weights α = (X Xᵀ + λI)⁻¹ 1 and the pooled vector
    /// u = Xᵀα, in double, each within `tolerance` (normwise, relative) of the exact ones.
    ///
    /// Tall, by the Woodbury identity: z = (XᵀX + λI)⁻¹ Xᵀ1, then α = (1 − X z)/λ and
    /// u = Xᵀα = z (as Xᵀ(X Xᵀ + λI)⁻¹ = (XᵀX + λI)⁻¹Xᵀ). Wide: α = z, u = Xᵀz. Either way
    /// the product of X with z comes from the iteration, not from another pass over X.
    func generalizedMax(lambda: Double) throws -> (alpha: [Double], pooled: [Double], iterations: Int?) {
        let (z, product, iterations) = try solve(lambda: lambda)
        if tall { return (product.map { (1 - $0) / lambda }, z, iterations) }
        return (z, product, iterations)
    }

    /// z = (G + λI)⁻¹ b for `rightHandSide`, with X z (tall) or Xᵀz (wide) and the
    /// conjugate-gradient iterations it took (nil when it came from the double factorization).
    func solve(lambda: Double) throws -> (z: [Double], product: [Double], iterations: Int?) {
        let b = rightHandSide
        guard let factor = floatFactor(lambda: lambda) else { return try exactAnswer(lambda: lambda) }
        // The preconditioner: the float factor's solution, in double.
        let roughSolve = { (r: [Double]) -> [Double] in
            var z = r.map(Float.init)
            Self.choleskySolve(factor, &z, size: self.size)
            return z.map(Double.init)
        }
        // Preconditioned conjugate gradients from the float solution; `product` follows z
        // (X z or Xᵀz) by the same updates, from the products each step takes anyway.
        var z = roughSolve(b)
        var (applied, product) = apply(z, lambda: lambda)
        var r = zip(b, applied).map { $0 - $1 }
        var s = roughSolve(r)
        var p = s
        var rs = dot(r, s)
        for iteration in 0..<200 {
            if converged(residual: r, z: z, product: product, lambda: lambda) { return (z, product, iteration) }
            let (q, productOfP) = apply(p, lambda: lambda)
            let step = rs / dot(p, q)
            guard step.isFinite, step > 0 else { break }
            var change = 0.0
            for i in 0..<size {
                z[i] += step * p[i]
                r[i] -= step * q[i]
                change = max(change, abs(step * p[i]))
            }
            for i in product.indices { product[i] += step * productOfP[i] }
            // At working precision the residual stops falling; the steps tell.
            if change <= 1e-15 * (z.map(abs).max() ?? 0) { return (z, product, iteration + 1) }
            s = roughSolve(r)
            let next = dot(r, s)
            let ratio = next / rs
            rs = next
            for i in 0..<size { p[i] = s[i] + ratio * p[i] }
        }
        return try exactAnswer(lambda: lambda)
    }

    /// Whether z and its product are within `tolerance` of the exact ones, from the
    /// residual r = b − (G + λI) z alone: the error of z is (G + λI)⁻¹r, at most ‖r‖/λ; that
    /// of X z (tall) or Xᵀz (wide) is X(XᵀX + λI)⁻¹r or Xᵀ(X Xᵀ + λI)⁻¹r, whose operators'
    /// singular values σ/(σ² + λ) are at most 1/(2√λ). The product is held to the size of
    /// what GMP makes of it: 1 − X z (α times λ) when tall, Xᵀz (u) when wide.
    private func converged(residual r: [Double], z: [Double], product: [Double], lambda: Double) -> Bool {
        let error = norm(r), tolerance = Self.tolerance
        guard error / lambda <= tolerance * norm(z) else { return false }
        let answer = tall ? product.reduce(0) { $0 + (1 - $1) * (1 - $1) }.squareRoot() : norm(product)
        return error / (2 * lambda.squareRoot()) <= tolerance * answer
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

    /// (G + λI) z with G applied as products with X, never formed, and the product of X
    /// with z on the way: XᵀX in one pass over X (X z its dot products), X Xᵀ in two
    /// (Xᵀz must be complete before X can multiply it).
    private func apply(_ z: [Double], lambda: Double) -> (applied: [Double], product: [Double]) {
        let gramProduct: [Double], product: [Double]
        if tall {
            var rowProducts = [Double](repeating: 0, count: rows)
            gramProduct = features.scalars.withUnsafeBufferPointer { x in
                z.withUnsafeBufferPointer { v in
                    rowProducts.withUnsafeMutableBufferPointer {
                        MixedPrecisionProducts.gram(x.baseAddress!, n: rows, d: columns, v.baseAddress!, rowProducts: $0.baseAddress!)
                    }
                }
            }
            product = rowProducts
        } else {
            product = multiply(z, transposed: true)
            gramProduct = multiply(product, transposed: false)
        }
        return (zip(gramProduct, z).map { $0 + lambda * $1 }, product)
    }

    /// The float Cholesky factor of G + λI (`BlockedCholesky`, on the compute threads), or
    /// nil when rounding left the float matrix indefinite. From `gram`, or from the float
    /// Gram matrix once one was formed: when the coarse one could not be factored, that is
    /// formed and used from then on (it also takes fewer iterations). Row-major, it holds Lᵀ
    /// in its upper triangle: row i is L's column i.
    private func floatFactor(lambda: Double) -> [Float]? {
        let formed = floatGramLock.withLock { floatGram }
        if let factor = Self.factor(formed ?? gram, plus: lambda, size: size) { return factor }
        guard coarseGram, formed == nil else { return nil }
        let exact = floatGramLock.withLock {
            if floatGram == nil { floatGram = PreconditionerGram.floatUpper(features, tall: tall) }
            return floatGram!
        }
        return Self.factor(exact, plus: lambda, size: size)
    }

    private static func factor(_ gram: [Float], plus lambda: Double, size: Int) -> [Float]? {
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

    /// `solve`'s answer from a Gram matrix formed and factored in double (`dsyrk`, `dposv`).
    func exactAnswer(lambda: Double) throws -> (z: [Double], product: [Double], iterations: Int?) {
        let z = try exactSolve(lambda: lambda, rightHandSide)
        return (z, multiply(z, transposed: !tall), nil)
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
