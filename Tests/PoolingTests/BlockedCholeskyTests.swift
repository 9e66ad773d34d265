import Foundation
@testable import Pooling
import Tensors
import Testing
import TestSupport

/// The blocked, two-thread Cholesky factor against the factor worked in double by the
/// textbook loop (L_jj = √(a_jj − Σ L_jk²), L_ij = (a_ij − Σ L_ik L_jk) / L_jj), on
/// matrices smaller than, equal to and around the block, one and two threads; and an
/// indefinite matrix refused.
struct BlockedCholeskyTests {
    /// A Gram matrix of random rows plus a ridge: symmetric positive definite, with the
    /// spread of eigenvalues GMP's systems have. Column-major; both triangles filled.
    static func spd(_ size: Int) -> [Double] {
        var random = SeededGenerator(seed: UInt64(size) &* 7 &+ 1)
        let depth = size + 40
        let x = (0..<(depth * size)).map { _ in random.uniform() - 0.3 }
        var a = [Double](repeating: 0, count: size * size)
        for i in 0..<size {
            for j in 0...i {
                var sum = 0.0
                for r in 0..<depth { sum += x[r * size + i] * x[r * size + j] }
                a[i + j * size] = sum + (i == j ? 10 : 0)
                a[j + i * size] = a[i + j * size]
            }
        }
        return a
    }

    static func textbook(_ a: [Double], _ n: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var diagonal = a[j + j * n]
            for k in 0..<j { diagonal -= l[j + k * n] * l[j + k * n] }
            l[j + j * n] = diagonal.squareRoot()
            for i in (j + 1)..<n {
                var value = a[i + j * n]
                for k in 0..<j { value -= l[i + k * n] * l[j + k * n] }
                l[i + j * n] = value / l[j + j * n]
            }
        }
        return l
    }

    @Test(arguments: [1, 40, 95, 96, 97, 250, 384], [1, 2])
    func matchesTheTextbookFactor(size: Int, threads: Int) {
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        ComputeThreads.set(threads)
        let a = Self.spd(size)
        var matrix = a.map(Float.init)
        // The upper triangle is not read: poison it.
        for j in 0..<size { for i in 0..<j { matrix[i + j * size] = .nan } }
        let factored = matrix.withUnsafeMutableBufferPointer { BlockedCholesky.factor($0.baseAddress!, size: size) }
        #expect(factored)
        let want = Self.textbook(a, size)
        var worst = 0.0
        for j in 0..<size {
            for i in j..<size { worst = max(worst, abs(Double(matrix[i + j * size]) - want[i + j * size]) / want[j + j * size]) }
            // The upper triangle stays as it was.
            for i in 0..<j { #expect(matrix[i + j * size].isNaN) }
        }
        #expect(worst <= 1e-4, "largest difference relative to its column's diagonal: \(worst)")
    }

    @Test(arguments: [1, 2])
    func refusesAnIndefiniteMatrix(threads: Int) {
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        ComputeThreads.set(threads)
        let size = 200
        var matrix = Self.spd(size).map(Float.init)
        // A negative pivot in the third block.
        matrix[150 + 150 * size] = -1
        #expect(!matrix.withUnsafeMutableBufferPointer { BlockedCholesky.factor($0.baseAddress!, size: size) })
    }
}
