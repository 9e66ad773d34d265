import Tensors

/// A 2-D convolution with its batch norm folded in, on channels-first feature maps.
/// Dense 3×3 stride-1 convolutions run as Winograd F(2×2, 3×3), other dense ones as
/// im2col + GEMM, depthwise ones as a direct loop.
struct Convolution: Sendable {
    enum Padding: Sendable, Equatable {
        /// PyTorch: `padding` zeros on every side.
        case symmetric(Int)
        /// TensorFlow "same": output = ⌈input / stride⌉, the odd pixel of padding at the
        /// bottom and right (EfficientNet ports).
        case same
    }

    let outChannels: Int
    let inChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Padding
    let depthwise: Bool
    let bias: [Float]
    /// The weights in the one form the convolution runs with.
    let form: Form

    enum Form: Sendable {
        /// `[out, k·k]`, read by a direct loop.
        case depthwise(Tensor)
        /// `[out, in·k·k]` packed for the product with the im2col matrix.
        case dense(PackedMatrix)
        /// A dense 3×3 stride-1 convolution (most of a ResNet's work) as Winograd F(2×2, 3×3).
        case winograd(WinogradConvolution)
    }

    /// Folds `BatchNorm(eps)` into the convolution: w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε).
    init(weight raw: Tensor, convBias: Tensor?, batchNorm: (weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor)?,
         eps: Float, stride: Int, padding: Padding, depthwise: Bool = false) {
        let out = raw.shape[0], perFilter = raw.count / out
        self.depthwise = depthwise
        outChannels = out
        inChannels = depthwise ? out : raw.shape[1]
        kernel = raw.shape[2]
        self.stride = stride
        self.padding = padding
        var scalars = raw.scalars
        var bias = convBias?.scalars ?? [Float](repeating: 0, count: out)
        if let bn = batchNorm {
            for o in 0..<out {
                let scale = bn.weight.scalars[o] / (bn.variance.scalars[o] + eps).squareRoot()
                for i in 0..<perFilter { scalars[o * perFilter + i] *= scale }
                bias[o] = bn.bias.scalars[o] + (bias[o] - bn.mean.scalars[o]) * scale
            }
        }
        let weight = Tensor(shape: [out, perFilter], scalars: scalars)
        self.bias = bias
        if depthwise {
            form = .depthwise(weight)
        } else if kernel == 3 && stride == 1 {
            form = .winograd(WinogradConvolution(weight: weight, outChannels: out, inChannels: inChannels))
        } else {
            form = .dense(PackedMatrix(weight))
        }
    }

    func outputSize(_ input: Int) -> Int {
        switch padding {
        case .symmetric(let pad): return (input + 2 * pad - kernel) / stride + 1
        case .same: return (input + stride - 1) / stride
        }
    }

    /// Leading padding (top or left) for an input side.
    func leadingPad(_ input: Int) -> Int {
        switch padding {
        case .symmetric(let pad): return pad
        case .same:
            let total = max((outputSize(input) - 1) * stride + kernel - input, 0)
            return total / 2
        }
    }

    /// `input`: `[inChannels, height, width]` flattened. Returns `[outChannels, oh, ow]`,
    /// after adding `residual` (same shape as the output) and applying `activation`; both
    /// are fused into the matrix product's blocks.
    func apply(_ input: [Float], height: Int, width: Int, activation: GEMM.Epilogue.Activation = .none,
               residual: [Float]? = nil) -> (values: [Float], height: Int, width: Int) {
        let oh = outputSize(height), ow = outputSize(width)
        let top = leadingPad(height), left = leadingPad(width)
        precondition(residual == nil || residual!.count == outChannels * oh * ow)
        var output = [Float](unsafeUninitializedCapacity: outChannels * oh * ow) { _, initialized in
            initialized = outChannels * oh * ow
        }
        switch form {
        case .depthwise(let weight):
            precondition(residual == nil, "depthwise convolutions take no residual")
            depthwiseApply(weight, input, height, width, oh, ow, top, left, &output)
            output.withUnsafeMutableBufferPointer { values in
                switch activation {
                case .none: break
                case .relu: VectorMath.relu(values)
                case .relu6: VectorMath.relu6(values)
                case .gelu: VectorMath.gelu(values)
                }
            }
        case .winograd(let winograd):
            winograd.apply(input, height: height, width: width, outputHeight: oh, outputWidth: ow, top: top, left: left,
                           bias: bias, activation: activation, residual: residual, output: &output)
        case .dense(let weight):
            denseApply(weight, input, height, width, oh, ow, top, left, activation, residual, &output)
        }
        return (output, oh, ow)
    }

    private func denseApply(_ weight: PackedMatrix, _ input: [Float], _ height: Int, _ width: Int, _ oh: Int, _ ow: Int,
                            _ top: Int, _ left: Int, _ activation: GEMM.Epilogue.Activation, _ residual: [Float]?,
                            _ output: inout [Float]) {
        let plane = oh * ow
        let columns = kernel == 1 && stride == 1 && top == 0 && left == 0
            ? input : im2col(input, height, width, oh, ow, top, left)
        columns.withUnsafeBufferPointer { cols in
            bias.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { out in
                    let target = out.baseAddress!
                    let multiply = { (residual: UnsafePointer<Float>?) in
                        PackedGEMM.multiply(weight, b: cols.baseAddress!, n: plane, c: target,
                                            epilogue: GEMM.Epilogue(bias: .perRow(b.baseAddress!), residual: residual, activation: activation))
                    }
                    if let residual {
                        residual.withUnsafeBufferPointer { multiply($0.baseAddress!) }
                    } else {
                        multiply(nil)
                    }
                }
            }
        }
    }

    /// The `[inChannels·k·k, oh·ow]` matrix of input patches. Each row (one channel and
    /// kernel offset) is built from whole source rows: the in-bounds span copied, the
    /// padding zeroed, so there is no bounds test per element. Rows are split across threads.
    private func im2col(_ input: [Float], _ height: Int, _ width: Int, _ oh: Int, _ ow: Int,
                        _ top: Int, _ left: Int) -> [Float] {
        let (k, stride) = (kernel, self.stride)
        let plane = oh * ow, rows = inChannels * k * k
        var columns = [Float](unsafeUninitializedCapacity: rows * plane) { _, initialized in initialized = rows * plane }
        input.withUnsafeBufferPointer { sourceBuffer in
            columns.withUnsafeMutableBufferPointer { targetBuffer in
                nonisolated(unsafe) let source = sourceBuffer.baseAddress!
                nonisolated(unsafe) let target = targetBuffer.baseAddress!
                ComputeThreads.parallelFor(rows, minimumPerThread: max(1, 16384 / max(1, plane))) { range in
                    for row in range {
                        let c = row / (k * k), ky = row / k % k, kx = row % k
                        // Output columns whose input column falls inside the image.
                        let first = min(ow, max(0, (left - kx + stride - 1) / stride))
                        let last = min(ow, max(first, (width - 1 - kx + left) / stride + 1))
                        for y in 0..<oh {
                            let out = target + row * plane + y * ow
                            let iy = y * stride + ky - top
                            guard iy >= 0 && iy < height else {
                                out.update(repeating: 0, count: ow)
                                continue
                            }
                            out.update(repeating: 0, count: first)
                            (out + last).update(repeating: 0, count: ow - last)
                            let sourceRow = source + (c * height + iy) * width + kx - left
                            if stride == 1 {
                                (out + first).update(from: sourceRow + first, count: last - first)
                            } else {
                                var x = first
                                if stride == 2 {
                                    // Eight outputs from the even lanes of sixteen inputs, while
                                    // all sixteen lie inside the source row.
                                    let rowEnd = (width - 1 - kx + left)        // last valid index of sourceRow
                                    while x + 8 <= last && 2 * x + 15 <= rowEnd {
                                        let pair = UnsafeRawPointer(sourceRow + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                                        UnsafeMutableRawPointer(out + x).storeBytes(of: pair.evenHalf, as: SIMD8<Float>.self)
                                        x += 8
                                    }
                                }
                                while x < last {
                                    out[x] = sourceRow[x * stride]
                                    x += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return columns
    }

    private func depthwiseApply(_ weight: Tensor, _ input: [Float], _ height: Int, _ width: Int, _ oh: Int, _ ow: Int,
                                _ top: Int, _ left: Int, _ output: inout [Float]) {
        let k = kernel, plane = oh * ow
        let source = input
        output.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let target = out.baseAddress!
            ComputeThreads.parallelFor(outChannels, minimumPerThread: 8) { channels in
                for c in channels {
                    let filter = c * k * k
                    for y in 0..<oh {
                        for x in 0..<ow {
                            var sum = bias[c]
                            for ky in 0..<k {
                                let iy = y * stride + ky - top
                                if iy < 0 || iy >= height { continue }
                                for kx in 0..<k {
                                    let ix = x * stride + kx - left
                                    if ix < 0 || ix >= width { continue }
                                    sum += weight.scalars[filter + ky * k + kx] * source[(c * height + iy) * width + ix]
                                }
                            }
                            target[c * plane + y * ow + x] = sum
                        }
                    }
                }
            }
        }
    }
}

/// Elementwise activations and pooling on channels-first maps.
enum FeatureMaps {
    /// 3×3 max pooling, stride 2, padding 1 (ResNet's stem), channels split across threads.
    /// Each output row takes the maximum of its (up to) three input rows, a vector at a
    /// time, into a scratch row with −∞ on both sides; outputs are then the maxima of lanes
    /// 2x−1, 2x and 2x+1 of that row, eight at a time from its even and odd lanes.
    static func maxPool(_ input: [Float], channels: Int, height: Int, width: Int) -> (values: [Float], height: Int, width: Int) {
        typealias Lanes = SIMD8<Float>
        let oh = (height + 2 - 3) / 2 + 1, ow = (width + 2 - 3) / 2 + 1
        var output = [Float](unsafeUninitializedCapacity: channels * oh * ow) { _, n in n = channels * oh * ow }
        // Scratch: index 0 is the left padding, 1...width the column maxima, then −∞ to cover
        // the last 16-lane read.
        let scratchCount = 2 * ow + 18
        input.withUnsafeBufferPointer { sourceBuffer in
            output.withUnsafeMutableBufferPointer { targetBuffer in
                nonisolated(unsafe) let source = sourceBuffer.baseAddress!
                nonisolated(unsafe) let target = targetBuffer.baseAddress!
                ComputeThreads.parallelFor(channels, minimumPerThread: 4) { range in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratchBuffer in
                        let scratch = scratchBuffer.baseAddress!
                        scratch.initialize(repeating: -.infinity, count: scratchCount)
                        let columns = scratch + 1
                        for c in range {
                            for y in 0..<oh {
                                let rows = max(0, 2 * y - 1)..<min(height, 2 * y + 2)
                                let first = source + (c * height + rows.lowerBound) * width
                                var x = 0
                                while x + 8 <= width {
                                    var best = UnsafeRawPointer(first + x).loadUnaligned(as: Lanes.self)
                                    for row in rows.dropFirst() {
                                        let next = UnsafeRawPointer(source + (c * height + row) * width + x).loadUnaligned(as: Lanes.self)
                                        best = best.replacing(with: next, where: next .> best)
                                    }
                                    UnsafeMutableRawPointer(columns + x).storeBytes(of: best, as: Lanes.self)
                                    x += 8
                                }
                                while x < width {
                                    var best = first[x]
                                    for row in rows.dropFirst() { best = max(best, source[(c * height + row) * width + x]) }
                                    columns[x] = best
                                    x += 1
                                }
                                let out = target + (c * oh + y) * ow
                                x = 0
                                while x + 8 <= ow {
                                    let low = UnsafeRawPointer(scratch + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                                    let high = UnsafeRawPointer(scratch + 2 * x + 2).loadUnaligned(as: SIMD16<Float>.self)
                                    var best = low.evenHalf.replacing(with: low.oddHalf, where: low.oddHalf .> low.evenHalf)
                                    best = best.replacing(with: high.evenHalf, where: high.evenHalf .> best)
                                    UnsafeMutableRawPointer(out + x).storeBytes(of: best, as: Lanes.self)
                                    x += 8
                                }
                                while x < ow {
                                    out[x] = max(scratch[2 * x], scratch[2 * x + 1], scratch[2 * x + 2])
                                    x += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return (output, oh, ow)
    }

    /// `[channels, h·w]` → `[h·w, channels]` tokens for the Trace.
    static func tokens(_ values: [Float], channels: Int, height: Int, width: Int) -> Tensor {
        Tensor(shape: [channels, height * width], scalars: values).transposed()
    }

    static func globalAverage(_ values: [Float], channels: Int, plane: Int) -> [Float] {
        (0..<channels).map { c in values[(c * plane)..<((c + 1) * plane)].reduce(0, +) / Float(plane) }
    }
}
