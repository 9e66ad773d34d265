import Foundation
import Testing
@testable import Tensors

/// A linear layer with PyTorch's `[out, in]` weight, packed at load without a transposed
/// copy, against x·Wᵀ + b summed in double (and the exact GELU from libm's erf), for both
/// kernels, one and two threads, and shapes that leave partial panels and row blocks.
struct PackedLinearTests {
    @Test(arguments: [(1, 5, 3), (57, 384, 160), (37, 70, 33), (9, 600, 17)], MicrokernelShape.allCases)
    func matchesTheDefinition(shape: (rows: Int, inputs: Int, outputs: Int), microkernel: MicrokernelShape) {
        let (rows, inputs, outputs) = shape
        let x = GEMMTests.matrix(rows, inputs, seed: 3)
        let weight = GEMMTests.matrix(outputs, inputs, seed: 4)
        let bias = Tensor(shape: [outputs], scalars: (0..<outputs).map { Float($0 % 7) / 7 - 0.4 })
        let layer = PackedLinear(weight: weight, bias: bias, microkernel: microkernel)
        for threads in [1, 2] {
            let previous = ComputeThreads.count
            ComputeThreads.set(threads)
            defer { ComputeThreads.set(previous) }
            for gelu in [false, true] {
                let y = layer(x, gelu: gelu)
                #expect(y.shape == [rows, outputs])
                var worst = 0.0
                for r in 0..<rows {
                    for o in 0..<outputs {
                        var want = Double(bias.scalars[o])
                        for i in 0..<inputs { want += Double(x.scalars[r * inputs + i]) * Double(weight.scalars[o * inputs + i]) }
                        if gelu { want = want * 0.5 * (1 + erf(want / 2.0.squareRoot())) }
                        worst = max(worst, abs(Double(y.scalars[r * outputs + o]) - want) / (1 + abs(want)))
                    }
                }
                #expect(worst < 2e-5, "\(shape) \(microkernel) threads \(threads) gelu \(gelu): \(worst)")
            }
        }
    }
}
