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

    /// The preconditioners to try: float products everywhere, bfloat16 where the CPU has them.
    static let productKinds: [PreconditionerGram.Products] = PreconditionerGram.bfloat16Available ? [.float, .bfloat16] : [.float]

    /// GMP's α and u against the ones from a Gram matrix formed and factored in double, with
    /// X's products summed by plain loops: normwise within the solver's tolerance (1e-8).
    @Test(arguments: [(1024, 384), (200, 320), (301, 100)], [0.01, 0.5, 1000, 1e6])
    func iterativeSolveMatchesTheDoubleFactorization(shape: (Int, Int), lambda: Double) throws {
        let (n, d) = shape
        let x = Self.tokens(n: n, d: d)
        let value = { (i: Int, c: Int) in Double(x.scalars[i * d + c]) }
        // The reference: tall, z = (XᵀX + λI)⁻¹ Xᵀ1, α = (1 − X z)/λ, u = z; wide,
        // α = (X Xᵀ + λI)⁻¹ 1, u = Xᵀα.
        let reference = RegularizedGramSystem(features: x, products: .float)
        let wantAlpha: [Double], wantPooled: [Double]
        if n > d {
            let b = (0..<d).map { c in (0..<n).reduce(0.0) { $0 + value($1, c) } }
            let z = try reference.exactSolve(lambda: lambda, b)
            wantAlpha = (0..<n).map { i in (1 - (0..<d).reduce(0.0) { $0 + value(i, $1) * z[$1] }) / lambda }
            wantPooled = z
        } else {
            wantAlpha = try reference.exactSolve(lambda: lambda, [Double](repeating: 1, count: n))
            wantPooled = (0..<d).map { c in (0..<n).reduce(0.0) { $0 + value($1, c) * wantAlpha[$1] } }
        }
        for products in Self.productKinds where products != .bfloat16 || n > d {
            let system = RegularizedGramSystem(features: x, products: products)
            #expect(system.tall == (n > d))
            let (alpha, pooled, iterations) = try system.generalizedMax(lambda: lambda)
            // Measured: 1 to 16 iterations here, more as λ shrinks; never the fallback.
            #expect(iterations != nil, "the preconditioned iteration must converge here (\(products))")
            let alphaError = Self.distance(alpha, wantAlpha) / Self.length(wantAlpha)
            let pooledError = Self.distance(pooled, wantPooled) / Self.length(wantPooled)
            #expect(alphaError <= 1e-8 && pooledError <= 1e-8, "\(products): α off by \(alphaError), u by \(pooledError)")
        }
    }

    /// A coarse Gram matrix that rounding left indefinite for a small λ (as bfloat16 products
    /// leave DINOv2's at λ = 0.01): the solver forms the float one and iterates from its
    /// factor instead of falling back to double, with the same answers, and keeps it. Made
    /// here from the float matrix with its first diagonal entry below −λ: the system itself
    /// is unchanged.
    @Test(arguments: [0.5, 1000])
    func indefiniteCoarseGramFallsBackToTheFloatOne(lambda: Double) throws {
        let (n, d) = (1024, 384)
        let x = Self.tokens(n: n, d: d)
        var broken = PreconditionerGram.floatUpper(x, tall: true)
        broken[0] = -Float(lambda) - 1
        let sums = (0..<d).map { c in (0..<n).reduce(0.0) { $0 + Double(x.scalars[$1 * d + c]) } }
        let system = RegularizedGramSystem(features: x, preconditioner: (broken, sums))
        let reference = RegularizedGramSystem(features: x, products: .float)
        let (alpha, pooled, iterations) = try system.generalizedMax(lambda: lambda)
        let (wantAlpha, wantPooled, _) = try reference.generalizedMax(lambda: lambda)
        #expect(iterations != nil, "the float Gram matrix's factor must serve")
        #expect(Self.distance(alpha, wantAlpha) / Self.length(wantAlpha) <= 2e-8)
        #expect(Self.distance(pooled, wantPooled) / Self.length(wantPooled) <= 2e-8)
        // From then on the float matrix serves every λ, even one the coarse one factors at:
        // the iteration is then the float system's, step for step.
        let later = 1e6
        #expect(try system.generalizedMax(lambda: later).iterations == reference.generalizedMax(lambda: later).iterations)
    }

    static func length(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    static func distance(_ a: [Double], _ b: [Double]) -> Double { length(zip(a, b).map { $0 - $1 }) }

    /// Two threads split the Gram triangle into a triangle, a block and a triangle: every
    /// entry of the upper triangle must be the one a single `ssyrk` gives.
    @Test(arguments: [(1024, 384), (100, 300), (300, 100)])
    func splitGramMatchesOneThread(shape: (Int, Int)) {
        let x = Self.tokens(n: shape.0, d: shape.1)
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        ComputeThreads.set(1)
        let single = PreconditionerGram.floatUpper(x, tall: shape.0 > shape.1)
        ComputeThreads.set(2)
        let split = PreconditionerGram.floatUpper(x, tall: shape.0 > shape.1)
        let size = min(shape.0, shape.1)
        var worst: Float = 0
        for i in 0..<size {
            for j in i..<size {
                worst = max(worst, abs(single[i * size + j] - split[i * size + j]) / max(abs(single[i * size + i]), 1))
            }
        }
        #expect(worst <= 1e-5)
    }

    /// The bfloat16 Gram kernel: each upper entry is Σₖ bf16(x_ki)·bf16(x_kj), the values
    /// rounded to nearest even by bit arithmetic here and multiplied and summed in double;
    /// the kernel sums in float, two roundings per pair of rows, so it may differ by the
    /// classic bound for such a sum: (2 · pairs) · 2⁻²⁴ of the sum of magnitudes.
    /// Its column sums are the float values' sums in double. Odd row counts and widths off
    /// its 16- and 64-column blocks, one and two threads.
    @Test(.enabled(if: PreconditionerGram.bfloat16Available), arguments: [(1024, 384), (301, 100), (37, 21), (130, 129)], [1, 2])
    func bfloat16GramMatchesRoundedProducts(shape: (Int, Int), threads: Int) {
        let (n, d) = shape
        let x = Self.tokens(n: n, d: d)
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        ComputeThreads.set(threads)
        let (gram, sums) = PreconditionerGram.bfloat16Upper(x)
        let rounded = x.scalars.map { value -> Double in
            let bits = value.bitPattern
            return Double(Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000))
        }
        var worst = 0.0
        for i in 0..<d {
            for j in i..<d {
                var want = 0.0, magnitude = 0.0
                for k in 0..<n {
                    let product = rounded[k * d + i] * rounded[k * d + j]
                    want += product
                    magnitude += abs(product)
                }
                worst = max(worst, abs(Double(gram[i * d + j]) - want) / magnitude)
            }
        }
        let bound = Double(2 * ((n + 1) / 2)) * 0x1p-24
        #expect(worst <= bound, "largest error \(worst) of the products' magnitude, bound \(bound)")
        let wantSums = (0..<d).map { c in (0..<n).reduce(0.0) { $0 + Double(x.scalars[$1 * d + c]) } }
        #expect(zip(sums, wantSums).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
    }
}

extension RegularizedGramSystemTests {
    /// The one-pass Gram product Xᵀ(X v) (and X v) against X's two products in turn, summed in double
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
        var rowProducts = [Double](repeating: 0, count: n)
        let got = x.scalars.withUnsafeBufferPointer { xp in
            v.withUnsafeBufferPointer { v in
                rowProducts.withUnsafeMutableBufferPointer {
                    MixedPrecisionProducts.gram(xp.baseAddress!, n: n, d: d, v.baseAddress!, rowProducts: $0.baseAddress!)
                }
            }
        }
        let scale = want.map(abs).max()!
        #expect(zip(got, want).map { abs($0 - $1) }.max()! / scale <= 1e-12)
        // X v on the way
        let innerScale = inner.map(abs).max()!
        #expect(zip(rowProducts, inner).map { abs($0 - $1) }.max()! / innerScale <= 1e-12)
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
