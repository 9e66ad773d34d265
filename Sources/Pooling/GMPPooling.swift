import CBLAS
import Foundation
import Tensors

/// Generalized max pooling: α = (X Xᵀ + λ I)⁻¹ 1, u = Xᵀ α. The map is α's non-negative
/// part normalised (patches that add to the pooled vector); the signed α is kept for export.
///
/// The system is solved by LAPACK (Cholesky, `dposv`) in double precision. When N > d the
/// d×d form from the Woodbury identity is solved instead:
/// α = (1 − X (XᵀX + λI)⁻¹ Xᵀ 1) / λ.
public struct GMPPooling: PoolingMethod {
    public let lambda: Double

    public init(lambda: Double = 1000) { self.lambda = lambda }
    public var name: String { "gmp" }
    public var parameterText: String { "lambda=\(formatParameter(lambda))" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard lambda > 0 else { throw PoolingError("gmp: lambda must be positive, got \(lambda)") }
        let (n, d) = (input.tokenCount, input.channels)
        let x = input.features.scalars.map(Double.init)
        var alpha: [Double]
        if n <= d {
            // (X Xᵀ + λI) α = 1
            var gram = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in i..<n {
                    var dot = 0.0
                    for c in 0..<d { dot += x[i * d + c] * x[j * d + c] }
                    gram[i * n + j] = dot
                    gram[j * n + i] = dot
                }
                gram[i * n + i] += lambda
            }
            alpha = [Double](repeating: 1, count: n)
            try Self.solve(&gram, &alpha, size: n)
        } else {
            // (XᵀX + λI) y = Xᵀ1, α = (1 − X y) / λ
            var gram = [Double](repeating: 0, count: d * d)
            var rhs = [Double](repeating: 0, count: d)
            for i in 0..<n {
                for a in 0..<d {
                    let xa = x[i * d + a]
                    rhs[a] += xa
                    for b in a..<d { gram[a * d + b] += xa * x[i * d + b] }
                }
            }
            for a in 0..<d {
                for b in 0..<a { gram[a * d + b] = gram[b * d + a] }
                gram[a * d + a] += lambda
            }
            try Self.solve(&gram, &rhs, size: d)
            alpha = (0..<n).map { i in
                var dot = 0.0
                for c in 0..<d { dot += x[i * d + c] * rhs[c] }
                return (1 - dot) / lambda
            }
        }
        var pooled = [Double](repeating: 0, count: d)
        for i in 0..<n { for c in 0..<d { pooled[c] += alpha[i] * x[i * d + c] } }
        return PoolingResult(pooled: pooled.map(Float.init), map: normalizedMap(alpha.map { max($0, 0) }),
                             signedWeights: alpha.map(Float.init))
    }

    /// Solves the symmetric positive definite system in place (LAPACK dposv).
    static func solve(_ matrix: inout [Double], _ rhs: inout [Double], size: Int) throws {
        var n = Int32(size), nrhs: Int32 = 1, lda = Int32(size), ldb = Int32(size), info: Int32 = 0
        var uplo = CChar(UInt8(ascii: "U"))
        dposv_(&uplo, &n, &nrhs, &matrix, &lda, &rhs, &ldb, &info)
        guard info == 0 else { throw PoolingError("gmp: the system is not positive definite (LAPACK info \(info)); raise lambda") }
    }
}
