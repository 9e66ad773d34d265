import Foundation
import Testing
@testable import Tensors

/// The split matrix products and the worker pool, on two threads, against naive loops.
@Suite(.serialized)
struct ParallelTests {
    init() { ComputeThreads.set(2) }

    // Wide (split by columns), tall (split by rows), square, and two too small to split.
    @Test(arguments: [(16, 1600, 40), (1200, 20, 50), (100, 300, 64), (5, 70, 3), (300, 40, 9)])
    func splitProductsWithEpiloguesMatchNaiveLoops(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = GEMMTests.matrix(m, k, seed: 5)
        let b = GEMMTests.matrix(k, n, seed: 6)
        let residual = GEMMTests.matrix(m, n, seed: 7).scalars
        let rowBias = (0..<m).map { Float($0 % 7) - 3 }
        let columnBias = (0..<n).map { Float($0 % 5) / 2 - 1 }
        var product = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let x = Double(a.scalars[i * k + p])
                for j in 0..<n { product[i * n + j] += x * Double(b.scalars[p * n + j]) }
            }
        }
        let cases: [(String, GEMM.Epilogue.Activation, Bool, Bool)] = [
            ("plain", .none, false, false), ("row bias + residual + relu", .relu, true, true),
            ("column bias + gelu", .gelu, false, true), ("residual + relu6", .relu6, true, false),
        ]
        for (label, activation, useResidual, useBias) in cases {
            var c = [Float](repeating: .nan, count: m * n)
            let perRow = label.contains("row")
            rowBias.withUnsafeBufferPointer { rb in
                columnBias.withUnsafeBufferPointer { cb in
                    residual.withUnsafeBufferPointer { r in
                        a.scalars.withUnsafeBufferPointer { ap in
                            b.scalars.withUnsafeBufferPointer { bp in
                                c.withUnsafeMutableBufferPointer { cp in
                                    let bias: GEMM.Epilogue.Bias = !useBias ? .none
                                        : perRow ? .perRow(rb.baseAddress!) : .perColumn(cb.baseAddress!)
                                    GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!,
                                                  epilogue: .init(bias: bias, residual: useResidual ? r.baseAddress! : nil,
                                                                  activation: activation))
                                }
                            }
                        }
                    }
                }
            }
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var want = product[i * n + j]
                    if useBias { want += Double(perRow ? rowBias[i] : columnBias[j]) }
                    if useResidual { want += Double(residual[i * n + j]) }
                    switch activation {
                    case .none: break
                    case .relu: want = max(want, 0)
                    case .relu6: want = min(max(want, 0), 6)
                    case .gelu: want = want * 0.5 * (1 + erf(want / 2.0.squareRoot()))
                    }
                    worst = max(worst, abs(Double(c[i * n + j]) - want) / max(1, abs(want)))
                }
            }
            #expect(worst <= 1e-4, "\(m)×\(n)×\(k) \(label): \(worst)")
        }
    }

    /// Thousands of short jobs back to back: the pattern of a forward pass, where a worker
    /// that misses or repeats a chunk would show as a wrong count; with one chunk per thread
    /// and with the finer chunks that threads take as they finish, with and without a
    /// minimum per chunk.
    @Test(arguments: [(1, 1), (4, 1), (8, 1), (4, 5)])
    func everyIndexRunsExactlyOnceAcrossManyJobs(chunking: (perThread: Int, minimum: Int)) {
        for iterations in [1, 2, 3, 17, 1000] {
            for _ in 0..<500 {
                let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: iterations)
                counts.initialize(repeating: 0)
                defer { counts.deallocate() }
                nonisolated(unsafe) let shared = counts
                ComputeThreads.parallelFor(iterations, minimumPerThread: chunking.minimum, chunksPerThread: chunking.perThread) { range in
                    for i in range { shared[i] += 1 }
                }
                #expect(counts.allSatisfy { $0 == 1 }, "\(iterations) iterations")
            }
        }
    }

    @Test func nestedLoopsRunInline() {
        var total = [Int](repeating: 0, count: 4)
        total.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let shared = buffer
            ComputeThreads.parallelFor(4) { outer in
                for i in outer {
                    ComputeThreads.parallelFor(10) { inner in shared[i] += inner.count }
                }
            }
        }
        #expect(total == [10, 10, 10, 10])
    }
}
