import Foundation
import Pooling
import Tensors
import Testing

/// GMP keeps the last layer's Gram matrix so that a λ change only re-solves: the answers
/// with the cache warm must be the answers computed from scratch, and another layer of the
/// same shape must never see the previous layer's matrix.
@Suite(.serialized)
struct GramCacheTests {
    static func features(seed: Int, n: Int, d: Int) -> Tensor {
        Tensor(shape: [n, d], scalars: (0..<(n * d)).map { Float(sin(Double($0 * 31 + seed * 977))) })
    }

    static func fresh(_ lambda: Double, _ input: PoolingInput) throws -> PoolingResult {
        GramCache.shared.clear()
        return try GMPPooling(lambda: lambda).pool(input)
    }

    @Test(arguments: [(40, 12), (12, 40)])
    func warmCacheGivesTheAnswersOfAColdOne(shape: (Int, Int)) throws {
        let first = PoolingInput(features: Self.features(seed: 1, n: shape.0, d: shape.1))
        let second = PoolingInput(features: Self.features(seed: 2, n: shape.0, d: shape.1))
        for lambda in [1000.0, 10, 0.5] {
            let expected = try Self.fresh(lambda, first)
            _ = try GMPPooling(lambda: lambda * 3).pool(first)          // warm, with another λ
            let warm = try GMPPooling(lambda: lambda).pool(first)
            #expect(warm.map == expected.map && warm.pooled == expected.pooled)
            // Same shape, other features: computed anew, not taken from the cache.
            let other = try GMPPooling(lambda: lambda).pool(second)
            let otherExpected = try Self.fresh(lambda, second)
            #expect(other.map == otherExpected.map && other.pooled == otherExpected.pooled)
            #expect(other.map != expected.map)
        }
    }
}
