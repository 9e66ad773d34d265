import Tensors

/// Generalized max pooling: α = (X Xᵀ + λ I)⁻¹ 1, u = Xᵀ α. The map is α's non-negative
/// part normalised (patches that add to the pooled vector); the signed α is kept for export.
///
/// When N > d the d×d form from the Woodbury identity is solved instead:
/// α = (1 − X (XᵀX + λI)⁻¹ Xᵀ 1) / λ, whose (XᵀX + λI)⁻¹ Xᵀ 1 is u itself. Both are
/// solved in double precision by `RegularizedGramSystem`: with a small λ the Woodbury form
/// subtracts nearly equal numbers, and a single-precision answer loses the digits the map
/// is made of.
public struct GMPPooling: PoolingMethod {
    /// Whether the preconditioner's Gram matrix comes from AVX-512 BF16 products on this
    /// process (the CPU has them and `SIMPOOL_ISA` does not keep AVX-512 off), as `bench`
    /// reports it.
    public static var usesBFloat16Gram: Bool { PreconditionerGram.bfloat16Available }

    public let lambda: Double

    public init(lambda: Double = 1000) { self.lambda = lambda }
    public var name: String { "gmp" }
    public var parameterText: String { "lambda=\(formatParameter(lambda))" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard lambda > 0 else { throw PoolingError("gmp: lambda must be positive, got \(lambda)") }
        let system = GramCache.shared.value(for: input.features) { RegularizedGramSystem(features: input.features) }
        let (alpha, pooled, _) = try system.generalizedMax(lambda: lambda)
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
