/// A linear layer, `x · Wᵀ + b` with PyTorch's `[out, in]` weight, whose weights are packed
/// once when the model loads and multiplied by `PackedGEMM`.
///
/// BLAS packs both operands again on every call; for a ViT-S block's four products that
/// copy was a tenth of the time in `sgemm` (`sgemm_incopy`, 7% of a forward pass), and the
/// packed kernel reads the tokens in place. Measured on the ViT-S/14 shapes at 224 (257
/// tokens), one thread: 108–110 GFLOP/s against BLAS's 101–103 (gemm-benchmark).
public struct PackedLinear: Sendable {
    public let inputs: Int
    public let outputs: Int
    let weights: PackedWeights
    let bias: [Float]?

    public init(weight: Tensor, bias: Tensor?, microkernel: MicrokernelShape = .preferred) {
        precondition(weight.rank == 2, "a linear layer's weight is [out, in], got \(weight.shape)")
        (outputs, inputs) = (weight.shape[0], weight.shape[1])
        if let bias { precondition(bias.count == outputs, "linear: bias has \(bias.count) values, expected \(outputs)") }
        self.bias = bias?.scalars
        weights = weight.scalars.withUnsafeBufferPointer { [inputs, outputs] in
            PackedWeights($0.baseAddress!, segments: 1, channels: inputs, columns: outputs, microkernel: microkernel,
                          transposed: true)
        }
    }

    /// `[rows, in]` → `[rows, out]`, the exact GELU applied when asked (on each block while
    /// it is in cache).
    public func callAsFunction(_ x: Tensor, gelu: Bool = false) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inputs, "linear: input \(x.shape) does not fit [\(outputs), \(inputs)]")
        let rows = x.shape[0]
        var result = Tensor(uninitialized: [rows, outputs])
        guard rows > 0 else { return result }
        let table = RowTable.contiguous(rows: rows, stride: inputs)
        let activation: GEMM.Epilogue.Activation = gelu ? .gelu : .none
        x.scalars.withUnsafeBufferPointer { a in
            result.scalars.withUnsafeMutableBufferPointer { c in
                let target = c.baseAddress!
                let multiply = { (bias: GEMM.Epilogue.Bias) in
                    PackedGEMM.multiply(weights, a: a.baseAddress!, rows: table, c: target,
                                        epilogue: GEMM.Epilogue(bias: bias, activation: activation))
                }
                guard let bias else { return multiply(.none) }
                bias.withUnsafeBufferPointer { multiply(.perColumn($0.baseAddress!)) }
            }
        }
        return result
    }
}
