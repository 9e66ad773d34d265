import Foundation
@testable import Pooling
import Tensors
import Testing
import TestSupport

/// GMP's solver factors a float Gram matrix and refines in double. On layer-sized features
/// with the spread of real tokens (a few directions hundreds of times stronger than the
/// rest) its answers must be the double-precision ones: those of the Gram matrix formed and
/// factored in double, the path the numpy fixtures check on small cases.
struct RegularizedGramSystemTests {
    /// n×d tokens: 4 strong shared directions (scales 300, 100, 30, 10) plus unit noise.
    static func tokens(n: Int, d: Int) -> Tensor {
        var random = SeededGenerator(seed: 0x5EED)
        let directions = (0..<4).map { _ in (0..<d).map { _ in random.uniform() } }
        let scales = [300.0, 100, 30, 10]
        var scalars = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let weights = (0..<4).map { _ in random.uniform() * 0.5 + 0.5 }
            for c in 0..<d {
                var value = random.uniform()
                for k in 0..<4 { value += scales[k] * weights[k] * directions[k][c] / Double(d).squareRoot() * 10 }
                scalars[i * d + c] = Float(value)
            }
        }
        return Tensor(shape: [n, d], scalars: scalars)
    }

    @Test(arguments: [(1024, 384), (200, 320)], [0.01, 0.5, 1000, 1e6])
    func iterativeSolveMatchesTheDoubleFactorization(shape: (Int, Int), lambda: Double) throws {
        let system = RegularizedGramSystem(features: Self.tokens(n: shape.0, d: shape.1))
        #expect(system.tall == (shape.0 > shape.1))
        let b = (0..<system.size).map { sin(Double($0) * 0.7) + 1.5 }
        let (fast, iterations) = try system.solveCountingIterations(lambda: lambda, b)
        // Measured: 2 to 17 iterations here, more as λ shrinks; never the fallback.
        #expect(iterations != nil, "the float-preconditioned iteration must converge here")
        let exact = try system.exactSolve(lambda: lambda, b)
        let scale = exact.map(abs).max()!
        let error = zip(fast, exact).map { abs($0 - $1) }.max()! / scale
        #expect(error <= 1e-8, "relative difference \(error)")
    }

    /// Two threads split the Gram triangle into a triangle, a block and a triangle: every
    /// entry must be the one a single `ssyrk` gives.
    @Test(arguments: [(1024, 384), (100, 300), (300, 100)])
    func splitGramMatchesOneThread(shape: (Int, Int)) {
        let x = Self.tokens(n: shape.0, d: shape.1)
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        ComputeThreads.set(1)
        let single = RegularizedGramSystem.lowerGram(x, tall: shape.0 > shape.1)
        ComputeThreads.set(2)
        let split = RegularizedGramSystem.lowerGram(x, tall: shape.0 > shape.1)
        let size = min(shape.0, shape.1)
        var worst: Float = 0
        for i in 0..<size {
            for j in 0...i {
                worst = max(worst, abs(single[i * size + j] - split[i * size + j]) / max(abs(single[i * size + i]), 1))
            }
        }
        #expect(worst <= 1e-5)
    }
}
