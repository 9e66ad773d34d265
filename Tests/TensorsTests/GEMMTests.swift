import Testing
@testable import Tensors

/// BLAS products against a naive triple loop in Double.
struct GEMMTests {
    static func matrix(_ rows: Int, _ columns: Int, seed: Int) -> Tensor {
        Tensor(shape: [rows, columns], scalars: (0..<(rows * columns)).map { i in
            Float(((i * 7919 + seed * 104_729) % 2001) - 1000) / 997
        })
    }

    static func naive(_ a: Tensor, _ b: Tensor) -> [Double] {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(a[i, p]) * Double(b[p, j]) }
                c[i * n + j] = sum
            }
        }
        return c
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 2), (17, 33, 9), (197, 64, 48)])
    func matmulMatchesNaive(shape: (Int, Int, Int)) {
        let a = Self.matrix(shape.0, shape.1, seed: 1)
        let b = Self.matrix(shape.1, shape.2, seed: 2)
        let c = a.matmul(b)
        #expect(c.shape == [shape.0, shape.2])
        for (got, want) in zip(c.scalars, Self.naive(a, b)) {
            #expect(abs(Double(got) - want) <= 1e-4 * max(1, abs(want)))
        }
    }

    @Test func linearUsesPyTorchWeightLayoutAndBias() {
        // x [2,3] · Wᵀ with W [2,3] plus bias, worked by hand.
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let w = Tensor(shape: [2, 3], scalars: [1, 0, -1, 0.5, 0.5, 0.5])
        let b = Tensor(shape: [2], scalars: [10, -1])
        let y = x.linear(weight: w, bias: b)
        #expect(y.shape == [2, 2])
        // Row 1: (1 − 3) + 10, 0.5·6 − 1; row 2: (4 − 6) + 10, 0.5·15 − 1.
        let expected: [Float] = [8, 2, 8, 6.5]
        #expect(y.scalars == expected)
    }

    @Test func transposedFlagsAgreeWithExplicitTranspose() {
        let a = Self.matrix(6, 4, seed: 3)
        let b = Self.matrix(5, 4, seed: 4)
        var c = [Float](repeating: 0, count: 30)
        a.scalars.withUnsafeBufferPointer { ap in
            b.scalars.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    GEMM.multiply(m: 6, n: 5, k: 4, a: ap.baseAddress!, b: bp.baseAddress!, transposeB: true, c: cp.baseAddress!)
                }
            }
        }
        let reference = a.matmul(b.transposed())
        for (got, want) in zip(c, reference.scalars) { #expect(abs(got - want) < 1e-5) }
    }
}
