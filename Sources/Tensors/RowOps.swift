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
    /// biased variance as PyTorch computes it.
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
                        layerNormRow(source + row * columns, target + row * columns, columns, g.baseAddress!, b.baseAddress!, eps)
                    }
                }
            }
        }
    }

    /// One row: two passes (mean, then the squared deviations) in eight Float lanes each.
    /// The two-pass form keeps the variance accurate without Double: each lane sums at most
    /// columns/8 terms, and the deviations are taken from the exact-to-rounding mean.
    @inline(__always)
    static func layerNormRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ columns: Int,
                             _ g: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ eps: Float) {
        let w = VectorMath.width
        let body = columns / w * w
        var sums = Lanes(repeating: 0)
        for j in stride(from: 0, to: body, by: w) { sums += UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self) }
        var total = Double(sums.sum())
        for j in body..<columns { total += Double(x[j]) }
        let mean = Float(total / Double(columns))
        let meanLanes = Lanes(repeating: mean)
        var squares = Lanes(repeating: 0)
        for j in stride(from: 0, to: body, by: w) {
            let d = UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self) - meanLanes
            squares += d * d
        }
        var squareTotal = Double(squares.sum())
        for j in body..<columns {
            let d = Double(x[j] - mean)
            squareTotal += d * d
        }
        let inverse = Float(1 / (squareTotal / Double(columns) + Double(eps)).squareRoot())
        let inverseLanes = Lanes(repeating: inverse)
        for j in stride(from: 0, to: body, by: w) {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self)
            let gamma = UnsafeRawPointer(g + j).loadUnaligned(as: Lanes.self)
            let shift = UnsafeRawPointer(b + j).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(y + j).storeBytes(of: (v - meanLanes) * inverseLanes * gamma + shift, as: Lanes.self)
        }
        for j in body..<columns { y[j] = (x[j] - mean) * inverse * g[j] + b[j] }
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
