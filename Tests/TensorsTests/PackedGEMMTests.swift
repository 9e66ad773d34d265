import Foundation
import Testing
@testable import Tensors

/// The convolution products against a naive loop in Double, with each kernel (the 6×16 and
/// the 8×32 or 7×32 block): shapes around the blocks (one short, exact, one over), depths of one
/// and several channel blocks, rows of A and C inside wider matrices, each epilogue, one
/// and two threads; then rows found through a table with several segments and zero rows,
/// as a padded convolution has them.
struct PackedGEMMTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let rows, depth, columns: Int
        var testDescription: String { "\(rows)×\(depth) · \(depth)×\(columns)" }
    }

    static let cases = [Case(rows: 1, depth: 1, columns: 1), Case(rows: 5, depth: 3, columns: 15), Case(rows: 6, depth: 64, columns: 16),
                        Case(rows: 7, depth: 9, columns: 17), Case(rows: 13, depth: 40, columns: 33), Case(rows: 130, depth: 31, columns: 49),
                        // The wide block exactly, and one over in both directions.
                        Case(rows: 8, depth: 20, columns: 32), Case(rows: 9, depth: 130, columns: 65),
                        // Large enough for two threads: split by row groups, then by column panels.
                        Case(rows: 200, depth: 147, columns: 64), Case(rows: 40, depth: 100, columns: 300),
                        // Many row groups (the order that keeps a group in L1 while panels pass).
                        Case(rows: 1500, depth: 80, columns: 40),
                        // Deeper than one channel block (256 steps): partial sums kept in C.
                        Case(rows: 21, depth: 600, columns: 13),
                        // A 7×7 map: seven-row blocks of the wide kernel, on two threads split by panels.
                        Case(rows: 49, depth: 300, columns: 256)]

    /// The wide kernel's block height for a product: whichever of seven and eight pads the
    /// rows less, eight on a tie (counted by hand: 49 rows are 7 blocks of seven or 56 rows
    /// in eights; 16 are 2 eights or 21 in sevens; 3136 are whole blocks either way).
    @Test func wideBlocksOfSevenOnlyWhereTheyPadLess() {
        #expect(PackedGEMM.wastesLessInSevens(49))
        #expect(PackedGEMM.wastesLessInSevens(196))
        #expect(PackedGEMM.wastesLessInSevens(1))
        #expect(!PackedGEMM.wastesLessInSevens(16))
        #expect(!PackedGEMM.wastesLessInSevens(64))
        #expect(!PackedGEMM.wastesLessInSevens(3136))
        #expect(!PackedGEMM.wastesLessInSevens(200))
    }

    @Test(arguments: cases, [(1, MicrokernelShape.narrow), (2, .narrow), (1, .wide), (2, .wide)])
    func matchesNaiveWithEveryEpilogue(_ shape: Case, run: (threads: Int, microkernel: MicrokernelShape)) {
        let threads = run.threads
        let previous = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previous) }
        // A and C live in wider matrices (3 spare columns) to check the strides.
        let (lda, ldc) = (shape.depth + 3, shape.columns + 3)
        let wideA = GEMMTests.matrix(shape.rows, lda, seed: 3)
        let a = Tensor(shape: [shape.rows, shape.depth],
                       scalars: (0..<(shape.rows * shape.depth)).map { wideA.scalars[$0 / shape.depth * lda + $0 % shape.depth] })
        let b = GEMMTests.matrix(shape.depth, shape.columns, seed: 4)
        let product = GEMMTests.naive(a, b)
        let bias = (0..<shape.columns).map { Float($0 % 7) - 3 }
        let residual = GEMMTests.matrix(shape.rows, ldc, seed: 5)
        let packed = PackedWeights(b, microkernel: run.microkernel)
        let table = RowTable.contiguous(rows: shape.rows, stride: lda)
        for activation in [GEMM.Epilogue.Activation.none, .relu, .relu6, .gelu] {
            for withBias in [false, true] {
                for withResidual in [false, true] {
                    var c = [Float](repeating: -99, count: shape.rows * ldc)
                    wideA.scalars.withUnsafeBufferPointer { ap in
                        bias.withUnsafeBufferPointer { biasPointer in
                            residual.scalars.withUnsafeBufferPointer { rp in
                                c.withUnsafeMutableBufferPointer { cp in
                                    let epilogue = GEMM.Epilogue(bias: withBias ? .perColumn(biasPointer.baseAddress!) : .none,
                                                                 residual: withResidual ? rp.baseAddress! : nil, activation: activation)
                                    PackedGEMM.multiply(packed, a: ap.baseAddress!, rows: table, c: cp.baseAddress!, ldc: ldc, epilogue: epilogue)
                                }
                            }
                        }
                    }
                    var worst = 0.0
                    for i in 0..<shape.rows {
                        for j in 0..<ldc {
                            guard j < shape.columns else {
                                #expect(c[i * ldc + j] == -99, "column \(j) is outside C's block and must stay untouched")
                                continue
                            }
                            var want = product[i * shape.columns + j]
                            if withBias { want += Double(bias[j]) }
                            if withResidual { want += Double(residual.scalars[i * ldc + j]) }
                            switch activation {
                            case .relu: want = max(want, 0)
                            case .relu6: want = min(max(want, 0), 6)
                            case .gelu: want = want * 0.5 * (1 + erf(want / 2.0.squareRoot()))
                            case .none: break
                            }
                            worst = max(worst, abs(Double(c[i * ldc + j]) - want) / max(1, abs(want)))
                        }
                    }
                    #expect(worst <= 1e-5, "\(activation) bias \(withBias) residual \(withResidual): \(worst)")
                }
            }
        }
    }

    /// Rows through a table: each output row sums, over the segments, `channels` values from
    /// wherever the table points (a shuffled pixel of a map), or nothing where it says zeros.
    @Test(arguments: [(13, 3, 5, 20), (50, 9, 64, 33), (7, 7, 21, 64), (100, 9, 40, 16)], MicrokernelShape.allCases)
    func segmentsReadTheRowsTheTableNames(shape: (rows: Int, segments: Int, channels: Int, columns: Int), microkernel: MicrokernelShape) {
        let threads = 2
        let previous = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previous) }
        let (rows, segments, channels, columns) = shape
        let pixels = 37
        let map = GEMMTests.matrix(pixels, channels, seed: 8)
        let weights = GEMMTests.matrix(segments * channels, columns, seed: 9)
        // Pixel (r·5 + s·11) mod 37, and zeros on every seventh (row, segment).
        let source = { (r: Int, s: Int) -> Int? in (r + 2 * s) % 7 == 0 ? nil : (r * 5 + s * 11) % pixels }
        let table = RowTable(rows: rows, segments: segments) { r, s in source(r, s).map { $0 * channels } }
        var c = [Float](repeating: 0, count: rows * columns)
        let packed = PackedWeights(weights.scalars, segments: segments, channels: channels, columns: columns, microkernel: microkernel)
        // Slices of at most 256 steps: 16 KB of a 16-wide panel, 32 KB of a 32-wide one.
        let steps = 256
        #expect(packed.channelBlocks == max(1, (segments * channels + steps - 1) / steps))
        map.scalars.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { PackedGEMM.multiply(packed, a: a.baseAddress!, rows: table, c: $0.baseAddress!) }
        }
        var worst = 0.0
        for r in 0..<rows {
            for o in 0..<columns {
                var want = 0.0
                for s in 0..<segments {
                    guard let pixel = source(r, s) else { continue }
                    for ch in 0..<channels { want += Double(map[pixel, ch]) * Double(weights[s * channels + ch, o]) }
                }
                worst = max(worst, abs(Double(c[r * columns + o]) - want) / max(1, abs(want)))
            }
        }
        #expect(worst <= 1e-5)
    }

    @Test func packingFollowsTheDocumentedLayout() {
        // 2 segments of 3 channels, 17 columns: two panels, the second holding column 16 and zeros.
        let values = (0..<(6 * 17)).map(Float.init)
        let packed = PackedWeights(values, segments: 2, channels: 3, columns: 17, microkernel: .narrow)
        #expect(packed.panels == 2 && packed.channelBlocks == 1)
        // Panel 0, segment 0, channel 0: row 0's columns 0–15.
        #expect(Array(packed.storage[0..<16]) == (0..<16).map(Float.init))
        // Panel 0, segment 1, channel 2 (row 5): the panel's sixth row of 16.
        #expect(Array(packed.storage[(5 * 16)..<(6 * 16)]) == (85..<101).map(Float.init))
        // Panel 1, segment 0, channel 1 (row 1): column 16, then zeros.
        let second = packed.offset(block: 0, panel: 1)
        #expect(Array(packed.storage[(second + 16)..<(second + 32)]) == [33] + [Float](repeating: 0, count: 15))
    }
}
