/// Row-wise kernels over row-major matrices: softmax and LayerNorm.
public enum RowOps {
    public typealias Lanes = VectorMath.Lanes

    /// Numerically stable softmax of each `columns`-long row, in place.
    public static func softmax(_ values: UnsafeMutableBufferPointer<Float>, columns: Int) {
        precondition(columns > 0 && values.count % columns == 0, "softmax: ragged rows")
        let rows = values.count / columns
        nonisolated(unsafe) let base = values.baseAddress!
        ComputeThreads.parallelFor(rows, minimumPerThread: max(1, 16384 / columns)) { range in
            for row in range {
                softmaxRow(base + row * columns, count: columns)
            }
        }
    }

    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int) {
        let buffer = UnsafeMutableBufferPointer(start: row, count: count)
        var maximum = VectorMath.maximum(UnsafeBufferPointer(buffer))
        if maximum == -.infinity { maximum = 0 }
        var sum: Float = 0
        let w = VectorMath.width
        var i = 0
        var sums = Lanes(repeating: 0)
        let shift = Lanes(repeating: maximum)
        while i + w <= count {
            let e = VectorMath.exp(UnsafeRawPointer(row + i).loadUnaligned(as: Lanes.self) - shift)
            UnsafeMutableRawPointer(row + i).storeBytes(of: e, as: Lanes.self)
            sums += e
            i += w
        }
        sum = sums.sum()
        while i < count {
            let e = VectorMath.exp(row[i] - maximum)
            row[i] = e
            sum += e
            i += 1
        }
        VectorMath.scale(buffer, by: 1 / sum)
    }

    /// LayerNorm over each `columns`-long row: (x − mean)/√(var + eps)·weight + bias, with the
    /// biased variance as PyTorch computes it. Accumulates in Double so long rows stay exact.
    public static func layerNorm(_ input: UnsafeBufferPointer<Float>,
                                 output: UnsafeMutableBufferPointer<Float>,
                                 columns: Int, weight: [Float]?, bias: [Float]?, eps: Float) {
        precondition(columns > 0 && input.count % columns == 0 && output.count == input.count)
        precondition(weight == nil || weight!.count == columns)
        precondition(bias == nil || bias!.count == columns)
        let rows = input.count / columns
        nonisolated(unsafe) let source = input.baseAddress!
        nonisolated(unsafe) let target = output.baseAddress!
        let ones = [Float](repeating: 1, count: columns)
        let zeros = [Float](repeating: 0, count: columns)
        let gamma = weight ?? ones
        let beta = bias ?? zeros
        ComputeThreads.parallelFor(rows, minimumPerThread: max(1, 8192 / columns)) { range in
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { b in
                    for row in range {
                        let x = source + row * columns
                        let y = target + row * columns
                        var sum = 0.0
                        for j in 0..<columns { sum += Double(x[j]) }
                        let mean = sum / Double(columns)
                        var squares = 0.0
                        for j in 0..<columns {
                            let d = Double(x[j]) - mean
                            squares += d * d
                        }
                        let inverse = Float(1 / (squares / Double(columns) + Double(eps)).squareRoot())
                        let m = Float(mean)
                        for j in 0..<columns {
                            y[j] = (x[j] - m) * inverse * g[j] + b[j]
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// Softmax along the last axis.
    public func softmaxLastAxis() -> Tensor {
        var result = self
        let columns = shape.last ?? 1
        result.scalars.withUnsafeMutableBufferPointer { RowOps.softmax($0, columns: columns) }
        return result
    }

    /// LayerNorm along the last axis with optional affine parameters.
    public func layerNormLastAxis(weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        var result = Tensor(uninitialized: shape)
        let columns = shape.last ?? 1
        scalars.withUnsafeBufferPointer { input in
            result.scalars.withUnsafeMutableBufferPointer { output in
                RowOps.layerNorm(input, output: output, columns: columns,
                                 weight: weight?.scalars, bias: bias?.scalars, eps: eps)
            }
        }
        return result
    }

    /// Exact GELU applied to every element.
    public func gelu() -> Tensor {
        var result = self
        result.scalars.withUnsafeMutableBufferPointer { VectorMath.gelu($0) }
        return result
    }
}
