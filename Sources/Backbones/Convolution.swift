import Tensors

/// A 2-D convolution with its batch norm folded in, on channels-first feature maps.
/// Dense convolutions run as im2col + GEMM; depthwise ones as a direct loop.
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
    let weight: Tensor        // [out, in·k·k] (dense) or [out, k·k] (depthwise)
    let bias: [Float]

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
        weight = Tensor(shape: [out, perFilter], scalars: scalars)
        self.bias = bias
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

    /// `input`: `[inChannels, height, width]` flattened. Returns `[outChannels, oh, ow]`.
    func apply(_ input: [Float], height: Int, width: Int) -> (values: [Float], height: Int, width: Int) {
        let oh = outputSize(height), ow = outputSize(width)
        let top = leadingPad(height), left = leadingPad(width)
        var output = [Float](repeating: 0, count: outChannels * oh * ow)
        if depthwise {
            depthwiseApply(input, height, width, oh, ow, top, left, &output)
        } else {
            denseApply(input, height, width, oh, ow, top, left, &output)
        }
        return (output, oh, ow)
    }

    private func denseApply(_ input: [Float], _ height: Int, _ width: Int, _ oh: Int, _ ow: Int,
                            _ top: Int, _ left: Int, _ output: inout [Float]) {
        let plane = oh * ow
        let k = kernel
        let columns: [Float]
        if k == 1 && stride == 1 && top == 0 && left == 0 {
            columns = input
        } else {
            var cols = [Float](repeating: 0, count: inChannels * k * k * plane)
            input.withUnsafeBufferPointer { source in
                cols.withUnsafeMutableBufferPointer { target in
                    for c in 0..<inChannels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let row = ((c * k + ky) * k + kx) * plane
                                for y in 0..<oh {
                                    let iy = y * stride + ky - top
                                    if iy < 0 || iy >= height { continue }
                                    let sourceRow = (c * height + iy) * width
                                    for x in 0..<ow {
                                        let ix = x * stride + kx - left
                                        if ix >= 0 && ix < width { target[row + y * ow + x] = source[sourceRow + ix] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            columns = cols
        }
        for o in 0..<outChannels {
            let b = bias[o]
            for i in 0..<plane { output[o * plane + i] = b }
        }
        weight.scalars.withUnsafeBufferPointer { w in
            columns.withUnsafeBufferPointer { cols in
                output.withUnsafeMutableBufferPointer { out in
                    GEMM.multiply(m: outChannels, n: plane, k: inChannels * k * k,
                                  a: w.baseAddress!, b: cols.baseAddress!, c: out.baseAddress!, beta: 1)
                }
            }
        }
    }

    private func depthwiseApply(_ input: [Float], _ height: Int, _ width: Int, _ oh: Int, _ ow: Int,
                                _ top: Int, _ left: Int, _ output: inout [Float]) {
        let k = kernel, plane = oh * ow
        nonisolated(unsafe) let source = input
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
    static func relu(_ values: inout [Float]) {
        for i in values.indices where values[i] < 0 { values[i] = 0 }
    }

    static func relu6(_ values: inout [Float]) {
        for i in values.indices { values[i] = min(max(values[i], 0), 6) }
    }

    /// 3×3 max pooling, stride 2, padding 1 (ResNet's stem).
    static func maxPool(_ input: [Float], channels: Int, height: Int, width: Int) -> (values: [Float], height: Int, width: Int) {
        let oh = (height + 2 - 3) / 2 + 1, ow = (width + 2 - 3) / 2 + 1
        var output = [Float](repeating: -.infinity, count: channels * oh * ow)
        for c in 0..<channels {
            for y in 0..<oh {
                for x in 0..<ow {
                    var best = -Float.infinity
                    for ky in 0..<3 {
                        let iy = y * 2 + ky - 1
                        if iy < 0 || iy >= height { continue }
                        for kx in 0..<3 {
                            let ix = x * 2 + kx - 1
                            if ix < 0 || ix >= width { continue }
                            best = max(best, input[(c * height + iy) * width + ix])
                        }
                    }
                    output[(c * oh + y) * ow + x] = best
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
