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
    /// entry of the upper triangle must be the one a single `ssyrk` gives.
    @Test(arguments: [(1024, 384), (100, 300), (300, 100)])
    func splitGramMatchesOneThread(shape: (Int, Int)) {
        let x = Self.tokens(n: shape.0, d: shape.1)
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        ComputeThreads.set(1)
        let single = RegularizedGramSystem.upperGram(x, tall: shape.0 > shape.1)
        ComputeThreads.set(2)
        let split = RegularizedGramSystem.upperGram(x, tall: shape.0 > shape.1)
        let size = min(shape.0, shape.1)
        var worst: Float = 0
        for i in 0..<size {
            for j in i..<size {
                worst = max(worst, abs(single[i * size + j] - split[i * size + j]) / max(abs(single[i * size + i]), 1))
            }
        }
        #expect(worst <= 1e-5)
    }
}

extension RegularizedGramSystemTests {
    /// The one-pass Gram product Xᵀ(X v) against X's two products in turn, summed in double
    /// by plain loops; widths that are and are not multiples of its vectors, one and two threads.
    @Test(arguments: [(1024, 384), (37, 21), (300, 100)], [1, 2])
    func onePassGramProductMatchesTwoProducts(shape: (Int, Int), threads: Int) {
        let (n, d) = shape
        let x = Self.tokens(n: n, d: d)
        let v = (0..<d).map { cos(Double($0) * 0.3) }
        var inner = [Double](repeating: 0, count: n), want = [Double](repeating: 0, count: d)
        for i in 0..<n { for c in 0..<d { inner[i] += Double(x.scalars[i * d + c]) * v[c] } }
        for i in 0..<n { for c in 0..<d { want[c] += Double(x.scalars[i * d + c]) * inner[i] } }
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        ComputeThreads.set(threads)
        let got = x.scalars.withUnsafeBufferPointer { xp in
            v.withUnsafeBufferPointer { MixedPrecisionProducts.gram(xp.baseAddress!, n: n, d: d, $0.baseAddress!) }
        }
        let scale = want.map(abs).max()!
        #expect(zip(got, want).map { abs($0 - $1) }.max()! / scale <= 1e-12)
    }

    /// The triangular solves against a factor made up: L with a known solution x,
    /// rhs = L Lᵀ x computed in double, sizes around its 16-value vectors. The factor is
    /// stored as `floatFactor` leaves it: row i holds L's column i.
    @Test(arguments: [1, 15, 16, 17, 100])
    func choleskySolveInvertsTheFactor(size: Int) {
        var random = SeededGenerator(seed: UInt64(size))
        // lower[i][j], j ≤ i
        var lower = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        for i in 0..<size {
            // Off-diagonal rows summing to at most half the diagonal: well conditioned.
            for j in 0..<i { lower[i][j] = Double(Float(random.uniform() - 0.5) / Float(size)) }
            lower[i][i] = Double(Float(2 + random.uniform()))
        }
        var factor = [Float](repeating: 0, count: size * size)
        for i in 0..<size { for j in 0...i { factor[j * size + i] = Float(lower[i][j]) } }
        let x = (0..<size).map { _ in random.uniform() * 2 - 1 }
        // y = Lᵀ x, rhs = L y
        var y = [Double](repeating: 0, count: size), rhs = [Double](repeating: 0, count: size)
        for j in 0..<size { for i in j..<size { y[j] += lower[i][j] * x[i] } }
        for i in 0..<size { for j in 0...i { rhs[i] += lower[i][j] * y[j] } }
        var solved = rhs.map(Float.init)
        RegularizedGramSystem.choleskySolve(factor, &solved, size: size)
        #expect(zip(solved, x).map { abs(Double($0) - $1) }.max()! <= 1e-5)
    }
}
