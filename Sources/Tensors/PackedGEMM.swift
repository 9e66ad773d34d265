/// The products of convolutions: C[pixels × out] = rows of a channels-last feature map
/// (found through a `RowTable`) times weights packed once at load (`PackedWeights`).
///
/// BLAS `sgemm` repacks both operands on every call: for a convolution's weights that is the
/// same copy each forward pass (a ResNet-50 has 100 MB of them), and before each product
/// of a strided or 3×3 convolution the patches had to be copied out (im2col). Here neither
/// operand is copied per call: the weights are already in panels, and the feature map is
/// read in place, each of a block's rows through its own pointer, so a strided or padded
/// convolution costs the same as a 1×1 one. Pixels are the long side (rows, padded to the
/// block's 6 or 8) and output channels the short one (panels of 16 or 32, exact for every
/// ResNet layer), which wastes little at the 7×7 stage, where 49 pixels in 16-wide panels
/// wasted a quarter.
///
/// Each block of C is computed and finished (bias, residual, ReLU or ReLU6) in registers by
/// a `Microkernel` and written once; GELU, which no convolution here uses, is applied in a
/// pass over the block after. The kernels run near the core's peak only when compiled for
/// vector instructions: `Package.swift` targets AVX2 + FMA on x86-64, and
/// `Tools/build-release.sh --native` builds the AVX-512 kernel.
public enum PackedGEMM {
    /// Bytes of feature-map rows kept in L2 while the weight panels pass by.
    static let rowChunkBytes = 192 * 1024
    /// Bytes of weight panels kept in L2 while the row groups pass by.
    static let panelChunkBytes = 384 * 1024
    /// A row of zeros long enough for any layer of the bundled models, made once: the
    /// sixteen small products of each block of Winograd tiles paid for an allocation each.
    static let sharedZeroCount = 16384
    nonisolated(unsafe) static let sharedZeros: UnsafePointer<Float> = {
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: sharedZeroCount)
        zeros.initialize(repeating: 0, count: sharedZeroCount)
        return UnsafePointer(zeros)
    }()

    /// C (`table.rows × weights.columns`, leading dimension `ldc`) = the table's rows of `a`
    /// times the weights, then the epilogue; its bias is per column (output channel), its
    /// residual laid out like C. With `parallel`, pixels or panels are split across the
    /// compute threads.
    public static func multiply(_ weights: PackedWeights, a: UnsafePointer<Float>, rows table: RowTable,
                                c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                                epilogue: GEMM.Epilogue = .none, parallel: Bool = true) {
        switch weights.microkernel {
        case .narrow: multiply(NarrowKernel.self, weights, a, table, c, ldc ?? weights.columns, epilogue, parallel)
        case .wide where wastesLessInSevens(table.rows):
            multiply(WideKernel<SevenRows>.self, weights, a, table, c, ldc ?? weights.columns, epilogue, parallel)
        case .wide: multiply(WideKernel<EightRows>.self, weights, a, table, c, ldc ?? weights.columns, epilogue, parallel)
        }
    }

    /// Whether blocks of seven rows pad `rows` less than blocks of eight.
    static func wastesLessInSevens(_ rows: Int) -> Bool {
        (rows + 6) / 7 * 7 < (rows + 7) / 8 * 8
    }

    private static func multiply<Kernel: Microkernel>(_: Kernel.Type, _ weights: PackedWeights, _ a: UnsafePointer<Float>,
                                                      _ table: RowTable, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                                                      _ epilogue: GEMM.Epilogue, _ parallel: Bool) {
        precondition(table.segments == weights.segments, "the row table has \(table.segments) segments, the weights \(weights.segments)")
        guard table.rows > 0 else { return }
        var bias: UnsafePointer<Float>?
        switch epilogue.bias {
        case .none: bias = nil
        case .perColumn(let values): bias = values
        case .perRow: preconditionFailure("PackedGEMM takes a per-column bias only")
        }
        // The zero row stands for padding; it is as long as a segment's channels.
        let ownZeros = weights.channels > sharedZeroCount ? UnsafeMutablePointer<Float>.allocate(capacity: weights.channels) : nil
        ownZeros?.initialize(repeating: 0, count: weights.channels)
        defer { ownZeros?.deallocate() }
        nonisolated(unsafe) let (a, c, zero) = (a, c, ownZeros.map { UnsafePointer($0) } ?? sharedZeros)
        nonisolated(unsafe) let (residual, activation) = (epilogue.residual, epilogue.activation)
        nonisolated(unsafe) let bias0 = bias
        let groups = (table.rows + Kernel.rows - 1) / Kernel.rows, panels = weights.panels
        let flops = 2.0 * Double(table.rows) * Double(weights.columns) * Double(weights.depth)
        let threads = parallel && flops >= GEMM.minimumParallelFlops ? ComputeThreads.count : 1
        // Each thread reads all of the operand that is not split, so the larger one is split:
        // pixels on the wide early layers, weights on the deep late ones.
        let splitRows = groups >= 2 * threads && (table.rows >= weights.columns || panels < 2 * threads)
        // Two chunks per thread, taken as threads finish: every chunk reads the whole operand
        // that is not split once more, so finer cuts cost more than the waits they save
        // (ResNet-50 on two threads, alternating runs: 38.8 ms with two, 40.3 with four).
        let chunksPerThread = 2
        // The packed weights live as long as `weights` holds their memory.
        withExtendedLifetime(weights) {
            table.offsets.withUnsafeBufferPointer { offsets in
                nonisolated(unsafe) let (offsets, packed) = (offsets.baseAddress!, weights.storage.baseAddress!)
                let work = { (groupRange: Range<Int>, panelRange: Range<Int>) in
                    multiplyBlocks(Kernel.self, weights, packed, offsets, table.rows, a, zero, groupRange, panelRange,
                                   c, ldc, bias0, residual, activation)
                }
                if threads > 1 && splitRows {
                    ComputeThreads.parallelFor(groups, chunksPerThread: chunksPerThread) { work($0, 0..<panels) }
                } else if threads > 1 && panels >= 2 * threads {
                    ComputeThreads.parallelFor(panels, chunksPerThread: chunksPerThread) { work(0..<groups, $0) }
                } else {
                    work(0..<groups, 0..<panels)
                }
            }
        }
    }

    /// C's blocks for `groupRange` × `panelRange`, channel block after channel block (C
    /// holds the partial sums between them; the epilogue runs with the last).
    ///
    /// Weight panels go in chunks that stay in L2, and under each chunk every row group, a
    /// group's values staying in L1 while the chunk's panels pass; C is written row by row,
    /// which the prefetchers follow (a column of blocks over hundreds of rows they did not).
    /// When the rows of the whole range fit in L2 (few pixels: the deep stages) the chunk is
    /// one panel, read from memory once and kept in L1 while every row group passes.
    private static func multiplyBlocks<Kernel: Microkernel>(
        _: Kernel.Type, _ weights: PackedWeights, _ packed: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>,
        _ rows: Int, _ a: UnsafePointer<Float>, _ zeros: UnsafePointer<Float>,
        _ groupRange: Range<Int>, _ panelRange: Range<Int>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
        _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?, _ activation: GEMM.Epilogue.Activation
    ) {
        let segments = weights.segments, blocks = weights.channelBlocks
        let (blockRows, blockColumns) = (Kernel.rows, Kernel.columns)
        // None, ReLU and ReLU6 are finished in the kernel's registers; GELU in a pass after.
        let clamp = activation.clampBounds
        for blockIndex in 0..<blocks {
            let start = blockIndex * weights.channelBlock, length = min(weights.channelBlock, weights.channels - start)
            let steps = segments * length, last = blockIndex == blocks - 1
            let groupsInL2 = max(1, rowChunkBytes / (blockRows * steps * 4))
            let panelsPerChunk = groupRange.count <= groupsInL2 ? 1 : max(1, panelChunkBytes / (blockColumns * steps * 4))
            for chunkStart in stride(from: panelRange.lowerBound, to: panelRange.upperBound, by: panelsPerChunk) {
                let chunk = chunkStart..<min(panelRange.upperBound, chunkStart + panelsPerChunk)
                for g in groupRange {
                    let row = g &* blockRows, validRows = min(blockRows, rows &- row)
                    for p in chunk {
                        let column = p &* blockColumns, validColumns = min(blockColumns, weights.columns &- column)
                        let target = c + (row &* ldc &+ column)
                        let (blockBias, blockResidual) = (bias.map { $0 + column }, residual.map { $0 + (row &* ldc &+ column) })
                        let fused = last ? clamp.map { FusedEpilogue(bias: blockBias, residual: blockResidual, lower: $0.lower, upper: $0.upper) } : nil
                        Kernel.block(offsets + row &* segments, segments: segments, a: a, zeros: zeros, channelStart: start,
                                     channels: length, weights: packed + weights.offset(block: blockIndex, panel: p),
                                     validRows: validRows, validColumns: validColumns, c: target, ldc: ldc,
                                     accumulate: blockIndex > 0, finish: fused)
                        if last && clamp == nil {
                            finishBlock(target, ldc: ldc, rows: validRows, columns: validColumns, bias: blockBias,
                                        residual: blockResidual, activation: activation)
                        }
                    }
                }
            }
        }
    }

    /// The epilogue over a block just written (still in L1) for activations the kernels
    /// do not apply themselves (GELU): bias, residual, then the activation, eight columns at
    /// a time.
    @inline(never)
    private static func finishBlock(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int,
                                    bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                    activation: GEMM.Epilogue.Activation) {
        if activation == .gelu, residual == nil, let bias, columns % VectorMath.width == 0 {
            return finishGELU(c, ldc: ldc, rows: rows, columns: columns, bias: bias)
        }
        for r in 0..<rows {
            let target = c + r &* ldc
            var x = 0
            while x < columns {
                let lanes = min(VectorMath.width, columns &- x)
                var value = VectorMath.load(target + x, lanes: lanes)
                if let bias { value += VectorMath.load(bias + x, lanes: lanes) }
                if let residual { value += VectorMath.load(residual + (r &* ldc &+ x), lanes: lanes) }
                VectorMath.store(activation.apply(value), to: target + x, lanes: lanes)
                x &+= lanes
            }
        }
    }

    /// The common case of that pass, a linear layer's bias then GELU over whole vectors,
    /// without the per-vector tests: the feed-forward's first product is a quarter of a
    /// ViT's work and its GELU was 5% of a pass.
    private static func finishGELU(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int,
                                   bias: UnsafePointer<Float>) {
        let width = VectorMath.width
        for r in 0..<rows {
            let target = c + r &* ldc
            var x = 0
            while x < columns {
                let value = VectorMath.load(target + x, lanes: width) + VectorMath.load(bias + x, lanes: width)
                VectorMath.store(VectorMath.gelu(value), to: target + x, lanes: width)
                x &+= width
            }
        }
    }
}
