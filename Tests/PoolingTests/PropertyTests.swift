import Foundation
import Pooling
import Tensors
import Testing

/// Properties every method must have, and limits worked by hand.
struct PropertyTests {
    static func features(_ n: Int, _ d: Int, seed: Int, positive: Bool = false) -> Tensor {
        var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1
        let values = (0..<(n * d)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let uniform = Float(state >> 40) / Float(1 << 24)
            return positive ? 0.1 + 2 * uniform : 4 * uniform - 1.5
        }
        return Tensor(shape: [n, d], scalars: values)
    }

    @Test(arguments: ["gap", "max", "gem", "gem:p=50", "lse", "lse:r=0.1", "gmp", "gmp:lambda=0.01", "how",
                      "simpool-np", "simpool-np:gamma=none", "simpool-np:gamma=3,heads=4,temperature=0.2"])
    func mapsAreDistributions(method text: String) throws {
        for (n, d, seed) in [(1, 8, 1), (6, 8, 2), (35, 16, 3), (64, 12, 4)] {
            let input = PoolingInput(features: Self.features(n, d, seed: seed))
            let method = try MethodCatalog.make(try MethodCatalog.parse(text)[0], context: .init())
            let result = try method.pool(input)
            #expect(result.map.count == n && result.pooled.count == d)
            #expect(result.map.allSatisfy { $0 >= 0 && $0.isFinite }, "\(text): negative or non-finite map")
            #expect(abs(result.map.reduce(0, +) - 1) < 1e-5, "\(text): map sums to \(result.map.reduce(0, +))")
            #expect(result.pooled.allSatisfy { $0.isFinite })
        }
    }

    @Test func gemIsGAPAtOneAndTendsToMax() throws {
        let input = PoolingInput(features: Self.features(20, 6, seed: 9, positive: true))
        let gap = try GAPPooling().pool(input).pooled
        let gem1 = try GeMPooling(p: 1).pool(input).pooled
        for (a, b) in zip(gem1, gap) { #expect(abs(a - b) <= 1e-6 * abs(b)) }
        let maximum = try MaxPooling().pool(input).pooled
        var previous = Double.infinity
        for p in [10.0, 100, 1000] {
            let gem = try GeMPooling(p: p).pool(input).pooled
            let gap = zip(gem, maximum).map { Double(abs($0 - $1) / $1) }.max()!
            #expect(gap < previous, "gem(\(p)) must approach max")
            previous = gap
        }
        #expect(previous < 1e-2)   // (mean of powers)^(1/p) ≥ max·N^(−1/p) = max·0.997 at p = 1000
    }

    @Test func simpoolWithZeroQueryAttendsUniformly() throws {
        let d = 8
        let weights = SimPoolWeights(queryWeight: Tensor(zeros: [d, d]), keyWeight: Tensor(shape: [d, d], repeating: 0.3),
                                     normWeight: nil, normBias: nil)
        let result = try SimPoolPooling(weights: weights, gamma: 1.25).pool(PoolingInput(features: Self.features(10, d, seed: 5)))
        for value in result.map { #expect(abs(value - 0.1) < 1e-6) }
    }

    @Test func gmpWeightsSolveTheSystem() throws {
        // With one patch x, α = 1/(‖x‖² + λ): worked by hand for x = (3, 4), λ = 25.
        let result = try GMPPooling(lambda: 25).pool(PoolingInput(features: Tensor(shape: [1, 2], scalars: [3, 4])))
        #expect(abs(result.signedWeights![0] - 1 / 50) < 1e-7)
        #expect(abs(result.pooled[0] - 3 / 50) < 1e-7 && abs(result.pooled[1] - 4 / 50) < 1e-7)
    }

    @Test func attentionMethodsSayWhyTheyCannotRun() throws {
        let input = PoolingInput(features: Self.features(4, 3, seed: 1), isTransformer: false)
        #expect(throws: PoolingError.self) { try CLSPooling().pool(input) }
        do {
            _ = try RolloutPooling().pool(input)
        } catch let error as PoolingError {
            #expect(error.description.hasPrefix("rollout: needs a transformer"))
        }
    }
}
