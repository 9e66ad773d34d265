import Tensors

/// Generalized max pooling: α = (X Xᵀ + λ I)⁻¹ 1, u = Xᵀ α. The map is α's non-negative
/// part normalised (patches that add to the pooled vector); the signed α is kept for export.
///
/// When N > d the d×d form from the Woodbury identity is solved instead:
/// α = (1 − X (XᵀX + λI)⁻¹ Xᵀ 1) / λ. Both are solved in double precision by
/// `RegularizedGramSystem`: with a small λ the Woodbury form subtracts nearly equal
/// numbers, and a single-precision answer loses the digits the map is made of.
public struct GMPPooling: PoolingMethod {
    public let lambda: Double

    public init(lambda: Double = 1000) { self.lambda = lambda }
    public var name: String { "gmp" }
    public var parameterText: String { "lambda=\(formatParameter(lambda))" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard lambda > 0 else { throw PoolingError("gmp: lambda must be positive, got \(lambda)") }
        let n = input.tokenCount
        let system = GramCache.shared.value(for: input.features) { RegularizedGramSystem(features: input.features) }
        let alpha: [Double]
        if system.tall {
            // (XᵀX + λI) y = Xᵀ1, then α = (1 − X y) / λ
            let y = try system.solve(lambda: lambda, system.multiply([Double](repeating: 1, count: n), transposed: true))
            alpha = system.multiply(y, transposed: false).map { (1 - $0) / lambda }
        } else {
            alpha = try system.solve(lambda: lambda, [Double](repeating: 1, count: n))
        }
        let pooled = system.multiply(alpha, transposed: true)                                    // Xᵀα
        return PoolingResult(pooled: pooled.map(Float.init), map: normalizedMap(alpha.map { max($0, 0) }),
                             signedWeights: alpha.map(Float.init))
    }
}

/// The Gram system of the last features GMP pooled. It does not depend on λ and forming it
/// is most of GMP's cost (150 MFLOP on a 32×32×384 layer), so changing λ in the explorer
/// only re-solves.
public enum GramCache {
    public static let shared = LastValueCache<Tensor, RegularizedGramSystem>()
}
