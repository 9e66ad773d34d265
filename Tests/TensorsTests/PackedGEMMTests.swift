import Testing
@testable import Tensors

/// The packed-weight kernel against a naive triple loop in Double: shapes around its 6×16
/// block (one short, exact, one over), depths of one and several passes, a column block of B and C inside wider matrices,
/// each epilogue, one and two threads.
struct PackedGEMMTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let m, k, n: Int
        var testDescription: String { "\(m)×\(k) · \(k)×\(n)" }
    }

    static let cases = [Case(m: 1, k: 1, n: 1), Case(m: 5, k: 3, n: 15), Case(m: 6, k: 64, n: 16), Case(m: 7, k: 9, n: 17),
                        Case(m: 13, k: 40, n: 33), Case(m: 130, k: 31, n: 49),
                        // Large enough for two threads: split by column panels, then by row groups.
                        Case(m: 64, k: 147, n: 200), Case(m: 300, k: 100, n: 40),
                        // Deeper than one depth block (256 steps): partial sums kept in C.
                        Case(m: 13, k: 600, n: 21)]

    @Test(arguments: cases, [1, 2])
    func matchesNaiveWithEveryEpilogue(_ shape: Case, threads: Int) {
        let previous = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previous) }
        let a = GEMMTests.matrix(shape.m, shape.k, seed: 3)
        // B and C live in wider matrices (3 spare columns) to check the leading dimensions.
        let (ldb, ldc) = (shape.n + 3, shape.n + 3)
        let wideB = GEMMTests.matrix(shape.k, ldb, seed: 4)
        let b = Tensor(shape: [shape.k, shape.n], scalars: (0..<(shape.k * shape.n)).map { wideB.scalars[$0 / shape.n * ldb + $0 % shape.n] })
        let product = GEMMTests.naive(a, b)
        let bias = (0..<shape.m).map { Float($0 % 7) - 3 }
        let residual = GEMMTests.matrix(shape.m, ldc, seed: 5)
        let packed = PackedMatrix(a)
        for activation in [GEMM.Epilogue.Activation.none, .relu, .relu6] {
            for withBias in [false, true] {
                for withResidual in [false, true] {
                    var c = [Float](repeating: -99, count: shape.m * ldc)
                    wideB.scalars.withUnsafeBufferPointer { bp in
                        bias.withUnsafeBufferPointer { biasPointer in
                            residual.scalars.withUnsafeBufferPointer { rp in
                                c.withUnsafeMutableBufferPointer { cp in
                                    let epilogue = GEMM.Epilogue(bias: withBias ? .perRow(biasPointer.baseAddress!) : .none,
                                                                 residual: withResidual ? rp.baseAddress! : nil, activation: activation)
                                    PackedGEMM.multiply(packed, b: bp.baseAddress!, ldb: ldb, n: shape.n, c: cp.baseAddress!,
                                                        ldc: ldc, epilogue: epilogue)
                                }
                            }
                        }
                    }
                    var worst = 0.0
                    for i in 0..<shape.m {
                        for j in 0..<ldc {
                            guard j < shape.n else {
                                #expect(c[i * ldc + j] == -99, "column \(j) is outside C's block and must stay untouched")
                                continue
                            }
                            var want = product[i * shape.n + j]
                            if withBias { want += Double(bias[i]) }
                            if withResidual { want += Double(residual.scalars[i * ldc + j]) }
                            switch activation {
                            case .relu: want = max(want, 0)
                            case .relu6: want = min(max(want, 0), 6)
                            default: break
                            }
                            worst = max(worst, abs(Double(c[i * ldc + j]) - want) / max(1, abs(want)))
                        }
                    }
                    #expect(worst <= 1e-5, "\(activation) bias \(withBias) residual \(withResidual): \(worst)")
                }
            }
        }
    }

    @Test func packingPadsTheLastGroupWithZeroRows() {
        let a = Tensor(shape: [7, 2], scalars: (1...14).map(Float.init))
        let packed = PackedMatrix(a)
        #expect(packed.groups == 2)
        // Group 0, step 0: column 0 of rows 0–5; group 1, step 1: row 6's column 1, then zeros.
        #expect(Array(packed.storage[0..<6]) == [1, 3, 5, 7, 9, 11])
        #expect(Array(packed.storage[18..<24]) == [14, 0, 0, 0, 0, 0])
    }
}

extension PackedGEMMTests {
    /// B handed over already in panels, laid out as the documentation says, gives exactly
    /// the product of B packed by the kernel itself.
    @Test(arguments: [(7, 9, 17), (13, 300, 40), (64, 147, 200)], [1, 2])
    func prepackedPanelsGiveTheSameProduct(shape: (Int, Int, Int), threads: Int) {
        let previous = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previous) }
        let (m, k, n) = shape
        let a = PackedMatrix(GEMMTests.matrix(m, k, seed: 6))
        let b = GEMMTests.matrix(k, n, seed: 7)
        let panelCount = (n + 15) / 16
        var panels = [Float](repeating: 0, count: panelCount * k * 16)
        for step in 0..<k {
            for column in 0..<n { panels[(column / 16) * k * 16 + step * 16 + column % 16] = b.scalars[step * n + column] }
        }
        let bias = (0..<m).map { Float($0) / 3 }
        var fromB = [Float](repeating: 0, count: m * n), fromPanels = fromB
        bias.withUnsafeBufferPointer { biasPointer in
            let epilogue = GEMM.Epilogue(bias: .perRow(biasPointer.baseAddress!), activation: .relu)
            b.scalars.withUnsafeBufferPointer { bp in
                fromB.withUnsafeMutableBufferPointer { PackedGEMM.multiply(a, b: bp.baseAddress!, n: n, c: $0.baseAddress!, epilogue: epilogue) }
            }
            panels.withUnsafeBufferPointer { pp in
                fromPanels.withUnsafeMutableBufferPointer { PackedGEMM.multiply(a, panels: pp.baseAddress!, n: n, c: $0.baseAddress!, epilogue: epilogue) }
            }
        }
        #expect(fromB == fromPanels)
        #expect(fromB.contains { $0 > 0 })
    }
}
