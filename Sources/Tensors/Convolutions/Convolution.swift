/// A 2-D convolution with its batch norm folded in, on channels-last feature maps
/// (`[height, width, channels]`, a pixel's channels contiguous).
///
/// Channels-last because the products then read the feature map in place: a pixel's
/// channels are one run of memory, so every kernel offset of a k×k convolution is a row of
/// the map found through a `RowTable`, with no patch matrix copied out (im2col), and the
/// output is the Trace's `[pixels, channels]` tokens as it stands. Dense 3×3 stride-1
/// convolutions run by Winograd's algorithm, other dense ones as one `PackedGEMM` product,
/// depthwise ones as a direct loop across channels.
package struct Convolution: Sendable {
    package enum Padding: Sendable, Equatable {
        /// PyTorch: `padding` zeros on every side.
        case symmetric(Int)
        /// TensorFlow "same": output = ⌈input / stride⌉, the odd pixel of padding at the
        /// bottom and right (EfficientNet ports).
        case same
    }

    package let outChannels: Int
    package let inChannels: Int
    package let kernel: Int
    package let stride: Int
    package let padding: Padding
    package let depthwise: Bool
    let bias: [Float]
    /// The weights in the one form the convolution runs with.
    let form: Form
    /// The last input size's row table: a forward pass meets the same size every time, and
    /// building the stem's table (88 000 rows) took 0.2 ms of serial work.
    let rowTables = LastValueCache<InputSize, RowTable>()

    struct InputSize: Equatable {
        let height, width: Int
    }

    enum Form: Sendable {
        /// `[k·k, channels]`, read by a direct loop.
        case depthwise([Float])
        /// `[(ky, kx, in), out]` packed for the product: one segment per kernel offset, or,
        /// with `folded`, one per kernel row (see `foldsKernelRows`).
        case dense(PackedWeights, folded: Bool)
        /// A dense 3×3 stride-1 convolution (most of a ResNet's work) by Winograd's algorithm.
        case winograd(WinogradConvolution)
    }

    /// Below this many input channels (an RGB stem) a segment per kernel offset would be a
    /// handful of steps between pointer changes. Such convolutions read a zero-bordered copy
    /// of the input instead, where a kernel row's k pixels are one contiguous run of k·in
    /// values: k segments of k·in steps.
    static let foldsKernelRows = 16

    /// Folds `BatchNorm(eps)` into the convolution: w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε).
    /// `raw` is PyTorch's `[out, in, k, k]` (`[out, 1, k, k]` when depthwise); `microkernel`,
    /// the products' block, and `winogradTile`, the Winograd tile of a 3×3 stride-1 one
    /// (tests run each; by default the layer's own).
    package init(weight raw: Tensor, convBias: Tensor?, batchNorm: (weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor)?,
         eps: Float, stride: Int, padding: Padding, depthwise: Bool = false, microkernel: MicrokernelShape = .preferred,
         winogradTile: WinogradTile? = nil) {
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
        self.bias = bias
        let (k, cin) = (kernel, inChannels)
        if depthwise {
            // [c, ky, kx] → [ky·k + kx, c]
            form = .depthwise((0..<(k * k * out)).map { scalars[($0 % out) * k * k + $0 / out] })
        } else if k == 3 && stride == 1 {
            form = .winograd(WinogradConvolution(weight: Tensor(shape: [out, perFilter], scalars: scalars),
                                                 outChannels: out, inChannels: cin, tile: winogradTile, microkernel: microkernel))
        } else {
            // [o, c, ky, kx] → [(ky·k + kx)·in + c, o]
            let depth = k * k * cin
            let reordered = [Float](unsafeUninitializedCapacity: depth * out) { target, initialized in
                for o in 0..<out {
                    for c in 0..<cin {
                        for offset in 0..<(k * k) { target[(offset * cin + c) * out + o] = scalars[(o * cin + c) * k * k + offset] }
                    }
                }
                initialized = depth * out
            }
            let folded = cin < Self.foldsKernelRows && k > 1
            form = .dense(reordered.withUnsafeBufferPointer {
                PackedWeights($0.baseAddress!, segments: folded ? k : k * k, channels: folded ? k * cin : cin, columns: out,
                              microkernel: microkernel)
            }, folded: folded)
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

    /// `input`: `[height, width, inChannels]` flattened. Returns `[oh, ow, outChannels]`,
    /// after adding `residual` (same shape as the output) and applying `activation`; both
    /// are fused into the matrix product's blocks.
    package func apply(_ input: [Float], height: Int, width: Int, activation: GEMM.Epilogue.Activation = .none,
               residual: [Float]? = nil) -> (values: [Float], height: Int, width: Int) {
        let oh = outputSize(height), ow = outputSize(width)
        let top = leadingPad(height), left = leadingPad(width)
        precondition(input.count == height * width * inChannels)
        precondition(residual == nil || residual!.count == outChannels * oh * ow)
        var output = [Float](unsafeUninitializedCapacity: outChannels * oh * ow) { _, initialized in
            initialized = outChannels * oh * ow
        }
        switch form {
        case .depthwise(let weight):
            precondition(residual == nil, "depthwise convolutions take no residual")
            depthwiseApply(weight, input, height, width, oh, ow, top, left, activation, &output)
        case .winograd(let winograd):
            winograd.apply(input, height: height, width: width, outputHeight: oh, outputWidth: ow, top: top, left: left,
                           bias: bias, activation: activation, residual: residual, output: &output)
        case .dense(let weights, let folded):
            let source = folded ? zeroBordered(input, height, width, oh, ow, top, left) : input
            let table = rowTables.value(for: InputSize(height: height, width: width)) {
                folded ? foldedRows(outputHeight: oh, outputWidth: ow)
                    : RowTable.convolution(height: height, width: width, channels: inChannels, kernel: kernel, stride: stride,
                                           top: top, left: left, outputHeight: oh, outputWidth: ow)
            }
            source.withUnsafeBufferPointer { a in
                bias.withUnsafeBufferPointer { b in
                    output.withUnsafeMutableBufferPointer { out in
                        let target = out.baseAddress!
                        let multiply = { (residual: UnsafePointer<Float>?) in
                            PackedGEMM.multiply(weights, a: a.baseAddress!, rows: table, c: target,
                                                epilogue: GEMM.Epilogue(bias: .perColumn(b.baseAddress!), residual: residual,
                                                                        activation: activation))
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
        return (output, oh, ow)
    }

    /// The input inside a border of zeros wide enough for every kernel window of the
    /// output: `[(oh − 1)·stride + k, (ow − 1)·stride + k, in]`.
    private func zeroBordered(_ input: [Float], _ height: Int, _ width: Int, _ oh: Int, _ ow: Int,
                              _ top: Int, _ left: Int) -> [Float] {
        let borderedHeight = (oh - 1) * stride + kernel, borderedWidth = (ow - 1) * stride + kernel
        let cin = inChannels
        var bordered = [Float](repeating: 0, count: borderedHeight * borderedWidth * cin)
        let firstColumn = max(0, -left), lastColumn = min(width, borderedWidth - left)
        guard firstColumn < lastColumn else { return bordered }
        input.withUnsafeBufferPointer { source in
            bordered.withUnsafeMutableBufferPointer { target in
                for y in max(0, -top)..<min(height, borderedHeight - top) {
                    (target.baseAddress! + ((y + top) * borderedWidth + firstColumn + left) * cin)
                        .update(from: source.baseAddress! + (y * width + firstColumn) * cin, count: (lastColumn - firstColumn) * cin)
                }
            }
        }
        return bordered
    }

    /// The rows of a folded convolution over its zero-bordered input: one segment per
    /// kernel row, the k pixels of which are k·in contiguous values.
    private func foldedRows(outputHeight oh: Int, outputWidth ow: Int) -> RowTable {
        let (stride, cin) = (self.stride, inChannels)
        let borderedWidth = (ow - 1) * stride + kernel
        return RowTable(rows: oh * ow, segments: kernel) { row, ky in
            ((row / ow * stride + ky) * borderedWidth + row % ow * stride) * cin
        }
    }

    /// Each output pixel's channels eight at a time: the k·k window's input pixels, each a
    /// vector of channels, times the matching weight vectors. Output rows split across threads.
    private func depthwiseApply(_ weight: [Float], _ input: [Float], _ height: Int, _ width: Int, _ oh: Int, _ ow: Int,
                                _ top: Int, _ left: Int, _ activation: GEMM.Epilogue.Activation, _ output: inout [Float]) {
        typealias Lanes = SIMD8<Float>
        let (k, stride, channels) = (kernel, self.stride, outChannels)
        input.withUnsafeBufferPointer { sourceBuffer in
            weight.withUnsafeBufferPointer { weightBuffer in
                bias.withUnsafeBufferPointer { biasBuffer in
                    output.withUnsafeMutableBufferPointer { out in
                        nonisolated(unsafe) let (source, filters, bias, target) =
                            (sourceBuffer.baseAddress!, weightBuffer.baseAddress!, biasBuffer.baseAddress!, out.baseAddress!)
                        ComputeThreads.parallelFor(oh, minimumPerThread: max(1, 4096 / max(1, ow * channels)), chunksPerThread: 4) { rows in
                            for y in rows {
                                let rowsInside = max(0, top - y * stride)..<min(k, height + top - y * stride)
                                for x in 0..<ow {
                                    let columnsInside = max(0, left - x * stride)..<min(k, width + left - x * stride)
                                    let pixel = target + (y * ow + x) * channels
                                    var c = 0
                                    while c < channels {
                                        let lanes = min(Lanes.scalarCount, channels - c)
                                        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes { VectorMath.load(p, lanes: lanes) }
                                        var sum = load(bias + c)
                                        for ky in rowsInside {
                                            let sourceRow = source + ((y * stride + ky - top) * width) * channels + c
                                            for kx in columnsInside {
                                                sum.addProduct(load(filters + (ky * k + kx) * channels + c),
                                                               load(sourceRow + (x * stride + kx - left) * channels))
                                            }
                                        }
                                        VectorMath.store(activation.apply(sum), to: pixel + c, lanes: lanes)
                                        c += lanes
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Layout changes and pooling on channels-last maps.
package enum FeatureMaps {
    /// A preprocessed image, `[3, height, width]`, as the channels-last map the convolutions take.
    package static func channelsLast(_ pixels: [Float], channels: Int, height: Int, width: Int) -> [Float] {
        Tensor(shape: [channels, height * width], scalars: pixels).transposed().scalars
    }

    /// 3×3 max pooling, stride 2, padding 1 (ResNet's stem), output rows split across
    /// threads; each output pixel is the maximum of its (up to) nine input pixels, eight
    /// channels at a time.
    package static func maxPool(_ input: [Float], channels: Int, height: Int, width: Int) -> (values: [Float], height: Int, width: Int) {
        typealias Lanes = SIMD8<Float>
        let oh = (height + 2 - 3) / 2 + 1, ow = (width + 2 - 3) / 2 + 1
        var output = [Float](unsafeUninitializedCapacity: channels * oh * ow) { _, n in n = channels * oh * ow }
        input.withUnsafeBufferPointer { sourceBuffer in
            output.withUnsafeMutableBufferPointer { targetBuffer in
                nonisolated(unsafe) let source = sourceBuffer.baseAddress!
                nonisolated(unsafe) let target = targetBuffer.baseAddress!
                ComputeThreads.parallelFor(oh, minimumPerThread: max(1, 4096 / max(1, ow * channels)), chunksPerThread: 4) { range in
                    for y in range {
                        let rows = max(0, 2 * y - 1)..<min(height, 2 * y + 2)
                        for x in 0..<ow {
                            let columns = max(0, 2 * x - 1)..<min(width, 2 * x + 2)
                            let pixel = target + (y * ow + x) * channels
                            var c = 0
                            while c + Lanes.scalarCount <= channels {
                                var best = Lanes(repeating: -.infinity)
                                for iy in rows {
                                    for ix in columns {
                                        let next = UnsafeRawPointer(source + (iy * width + ix) * channels + c).loadUnaligned(as: Lanes.self)
                                        best = best.replacing(with: next, where: next .> best)
                                    }
                                }
                                UnsafeMutableRawPointer(pixel + c).storeBytes(of: best, as: Lanes.self)
                                c += Lanes.scalarCount
                            }
                            while c < channels {
                                var best = -Float.infinity
                                for iy in rows {
                                    for ix in columns { best = max(best, source[(iy * width + ix) * channels + c]) }
                                }
                                pixel[c] = best
                                c += 1
                            }
                        }
                    }
                }
            }
        }
        return (output, oh, ow)
    }

    /// A channels-last map is the Trace's `[h·w, channels]` tokens as it stands.
    package static func tokens(_ values: [Float], channels: Int, height: Int, width: Int) -> Tensor {
        Tensor(shape: [height * width, channels], scalars: values)
    }

    package static func globalAverage(_ values: [Float], channels: Int, plane: Int) -> [Float] {
        var sums = [Float](repeating: 0, count: channels)
        values.withUnsafeBufferPointer { source in
            sums.withUnsafeMutableBufferPointer { total in
                for pixel in 0..<plane { VectorMath.add(total, source.baseAddress! + pixel * channels) }
            }
        }
        return sums.map { $0 / Float(plane) }
    }
}



