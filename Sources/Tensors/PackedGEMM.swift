import CKernelSupport

/// The products of convolutions: C[pixels × out] = rows of a channels-last feature map
/// (found through a `RowTable`) times weights packed once at load (`PackedWeights`).
///
/// BLAS `sgemm` repacks both operands on every call: for a convolution's weights that is the
/// same copy each forward pass (a ResNet-50 has 100 MB of them), and before each product
/// of a strided or 3×3 convolution the patches had to be copied out (im2col). Here neither
/// operand is copied per call: the weights are already in panels, and the feature map is
/// read in place, each of a block's six rows through its own pointer, so a strided or
/// padded convolution costs the same as a 1×1 one. Pixels are the long side (rows, padded to
/// six) and output channels the short one (16-wide panels, exact for every ResNet layer),
/// which wastes little at the 7×7 stage, where 49 pixels in 16-wide panels wasted a quarter.
///
/// Each 6×16 block of C is twelve eight-lane accumulators, one fused multiply-add per lane
/// and step, finished in registers (bias, residual, activation, one write). It runs near
/// the core's peak only when compiled for a CPU with FMA (`Tools/build-release.sh`).
public enum PackedGEMM {
    static let blockRows = RowTable.groupRows
    static let blockColumns = PackedWeights.panelWidth
    /// Bytes of feature-map rows kept in L2 while the weight panels pass by.
    static let rowChunkBytes = 192 * 1024
    /// Bytes of weight panels kept in L2 while the row groups pass by.
    static let panelChunkBytes = 384 * 1024
    /// How far ahead of the kernel the weights are prefetched, in floats (4 KB, 64 steps):
    /// on the deep layers each weight panel comes from memory, read by only a few row
    /// groups, faster than the hardware prefetchers fetch it (measured: 54 → 73 GFLOP/s on a
    /// 7×7 stage's Winograd product, no change where the weights are in cache). Past the
    /// end of the weights it reads nothing: a prefetch never faults.
    static let prefetchDistance = 1024

    /// C (`table.rows × weights.columns`, leading dimension `ldc`) = the table's rows of `a`
    /// times the weights, then the epilogue; its bias is per column (output channel), its
    /// residual laid out like C. With `parallel`, pixels or panels are split across the
    /// compute threads.
    public static func multiply(_ weights: PackedWeights, a: UnsafePointer<Float>, rows table: RowTable,
                                c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                                epilogue: GEMM.Epilogue = .none, parallel: Bool = true) {
        precondition(table.segments == weights.segments, "the row table has \(table.segments) segments, the weights \(weights.segments)")
        guard table.rows > 0 else { return }
        var bias: UnsafePointer<Float>?
        switch epilogue.bias {
        case .none: bias = nil
        case .perColumn(let values): bias = values
        case .perRow: preconditionFailure("PackedGEMM takes a per-column bias only")
        }
        let ldc = ldc ?? weights.columns
        // The zero row stands for padding; it is as long as a segment's channels.
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: weights.channels)
        zeros.initialize(repeating: 0, count: weights.channels)
        defer { zeros.deallocate() }
        nonisolated(unsafe) let (a, c, zero) = (a, c, UnsafePointer(zeros))
        nonisolated(unsafe) let (residual, activation) = (epilogue.residual, epilogue.activation)
        nonisolated(unsafe) let bias0 = bias
        let groups = table.groups, panels = weights.panels
        let flops = 2.0 * Double(table.rows) * Double(weights.columns) * Double(weights.depth)
        let threads = parallel && flops >= GEMM.minimumParallelFlops ? ComputeThreads.count : 1
        // Each thread reads all of the operand that is not split, so the larger one is split:
        // pixels on the wide early layers, weights on the deep late ones.
        let splitRows = groups >= 2 * threads && (table.rows >= weights.columns || panels < 2 * threads)
        table.offsets.withUnsafeBufferPointer { offsets in
            weights.storage.withUnsafeBufferPointer { packed in
                nonisolated(unsafe) let (offsets, packed) = (offsets.baseAddress!, packed.baseAddress!)
                let work = { (groupRange: Range<Int>, panelRange: Range<Int>) in
                    multiplyBlocks(weights, packed, offsets, table.rows, a, zero, groupRange, panelRange,
                                   c, ldc, bias0, residual, activation)
                }
                if threads > 1 && splitRows {
                    ComputeThreads.parallelFor(groups, chunksPerThread: 4) { work($0, 0..<panels) }
                } else if threads > 1 && panels >= 2 * threads {
                    ComputeThreads.parallelFor(panels, chunksPerThread: 4) { work(0..<groups, $0) }
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
    private static func multiplyBlocks(_ weights: PackedWeights, _ packed: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>,
                                       _ rows: Int, _ a: UnsafePointer<Float>, _ zeros: UnsafePointer<Float>,
                                       _ groupRange: Range<Int>, _ panelRange: Range<Int>,
                                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                                       _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?,
                                       _ activation: GEMM.Epilogue.Activation) {
        let segments = weights.segments, blocks = weights.channelBlocks
        for blockIndex in 0..<blocks {
            let start = blockIndex * weights.channelBlock, length = min(weights.channelBlock, weights.channels - start)
            let steps = segments * length
            @inline(__always) func run(_ g: Int, _ p: Int) {
                let row = g * blockRows, column = p * blockColumns
                block(offsets + g * segments * blockRows, a: a, zeros: zeros, segments: segments, channelStart: start,
                      channels: length, weights: packed + weights.offset(block: blockIndex, panel: p),
                      rows: min(blockRows, rows - row), columns: min(blockColumns, weights.columns - column),
                      c: c + row * ldc + column, ldc: ldc, accumulate: blockIndex > 0, finish: blockIndex == blocks - 1,
                      bias: bias.map { $0 + column }, residual: residual.map { $0 + row * ldc + column }, activation: activation)
            }
            let groupsInL2 = max(1, rowChunkBytes / (blockRows * steps * 4))
            let panelsPerChunk = groupRange.count <= groupsInL2 ? 1 : max(1, panelChunkBytes / (blockColumns * steps * 4))
            for chunkStart in stride(from: panelRange.lowerBound, to: panelRange.upperBound, by: panelsPerChunk) {
                let chunk = chunkStart..<min(panelRange.upperBound, chunkStart + panelsPerChunk)
                for g in groupRange {
                    for p in chunk { run(g, p) }
                }
            }
        }
    }

    /// One 6×16 block of C over a channel block of every segment, starting from zero or
    /// (`accumulate`) from C's partial sums; with `finish`, the epilogue follows. Only the
    /// block's `rows` × `columns` corner of C is read or written. (Helpers are static
    /// functions rather than nested ones: the compiler left nested ones as calls, six per
    /// block, which cost a fifth of a 64-step product.)
    @inline(__always)
    private static func block(_ offsets: UnsafePointer<Int>, a: UnsafePointer<Float>, zeros: UnsafePointer<Float>,
                              segments: Int, channelStart: Int, channels: Int, weights: UnsafePointer<Float>,
                              rows: Int, columns: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                              accumulate: Bool, finish: Bool,
                              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                              activation: GEMM.Epilogue.Activation) {
        var (c00, c01) = accumulate && rows > 0 ? load(c, columns) : (Lanes(), Lanes())
        var (c10, c11) = accumulate && rows > 1 ? load(c + ldc, columns) : (Lanes(), Lanes())
        var (c20, c21) = accumulate && rows > 2 ? load(c + 2 * ldc, columns) : (Lanes(), Lanes())
        var (c30, c31) = accumulate && rows > 3 ? load(c + 3 * ldc, columns) : (Lanes(), Lanes())
        var (c40, c41) = accumulate && rows > 4 ? load(c + 4 * ldc, columns) : (Lanes(), Lanes())
        var (c50, c51) = accumulate && rows > 5 ? load(c + 5 * ldc, columns) : (Lanes(), Lanes())
        var w = weights
        for s in 0..<segments {
            let group = offsets + s * blockRows
            let a0 = row(group[0], a, zeros) + channelStart, a1 = row(group[1], a, zeros) + channelStart
            let a2 = row(group[2], a, zeros) + channelStart, a3 = row(group[3], a, zeros) + channelStart
            let a4 = row(group[4], a, zeros) + channelStart, a5 = row(group[5], a, zeros) + channelStart
            for i in 0..<channels {
                spx_prefetch(w + prefetchDistance)
                let b0 = UnsafeRawPointer(w).loadUnaligned(as: Lanes.self)
                let b1 = UnsafeRawPointer(w + 8).loadUnaligned(as: Lanes.self)
                var x = Lanes(repeating: a0[i])
                c00.addProduct(x, b0); c01.addProduct(x, b1)
                x = Lanes(repeating: a1[i])
                c10.addProduct(x, b0); c11.addProduct(x, b1)
                x = Lanes(repeating: a2[i])
                c20.addProduct(x, b0); c21.addProduct(x, b1)
                x = Lanes(repeating: a3[i])
                c30.addProduct(x, b0); c31.addProduct(x, b1)
                x = Lanes(repeating: a4[i])
                c40.addProduct(x, b0); c41.addProduct(x, b1)
                x = Lanes(repeating: a5[i])
                c50.addProduct(x, b0); c51.addProduct(x, b1)
                w += blockColumns
            }
        }
        if rows > 0 { store(c00, c01, c, columns) }
        if rows > 1 { store(c10, c11, c + ldc, columns) }
        if rows > 2 { store(c20, c21, c + 2 * ldc, columns) }
        if rows > 3 { store(c30, c31, c + 3 * ldc, columns) }
        if rows > 4 { store(c40, c41, c + 4 * ldc, columns) }
        if rows > 5 { store(c50, c51, c + 5 * ldc, columns) }
        if finish { finishBlock(c, ldc: ldc, rows: rows, columns: columns, bias: bias, residual: residual, activation: activation) }
    }

    /// The epilogue over a block just written (still in L1): bias, residual, then the
    /// activation, ReLU and ReLU6 as a clamp with no branch. A pass of its own rather than
    /// fused into the registers: the compiler kept such code as calls, six per block, and
    /// the twelve accumulators leave it few registers.
    @inline(never)
    private static func finishBlock(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int,
                                    bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                    activation: GEMM.Epilogue.Activation) {
        let (biasLow, biasHigh) = bias.map { load($0, columns) } ?? (Lanes(), Lanes())
        let bounds = activation.clampBounds ?? (0, 0)
        let (lower, upper) = (Lanes(repeating: bounds.lower), Lanes(repeating: bounds.upper))
        let clamps = activation.clampBounds != nil
        for r in 0..<rows {
            let target = c + r * ldc
            var (low, high) = load(target, columns)
            low += biasLow
            high += biasHigh
            if let residual {
                let (extraLow, extraHigh) = load(residual + r * ldc, columns)
                low += extraLow
                high += extraHigh
            }
            if clamps {
                low = low.replacing(with: lower, where: low .< lower).replacing(with: upper, where: low .> upper)
                high = high.replacing(with: lower, where: high .< lower).replacing(with: upper, where: high .> upper)
            } else {
                low = activation.apply(low)
                high = activation.apply(high)
            }
            store(low, high, target, columns)
        }
    }

    typealias Lanes = SIMD8<Float>

    /// Where a table entry points: the feature map, or the row of zeros.
    @inline(__always)
    private static func row(_ offset: Int, _ a: UnsafePointer<Float>, _ zeros: UnsafePointer<Float>) -> UnsafePointer<Float> {
        offset == RowTable.zeros ? zeros : a + offset
    }

    /// 16 values (two vectors) of a row of C, or its first `columns` with zeros after.
    @inline(__always)
    private static func load(_ source: UnsafePointer<Float>, _ columns: Int) -> (Lanes, Lanes) {
        guard columns == blockColumns else { return loadPartial(source, columns) }
        return (UnsafeRawPointer(source).loadUnaligned(as: Lanes.self), UnsafeRawPointer(source + 8).loadUnaligned(as: Lanes.self))
    }

    @inline(never)
    private static func loadPartial(_ source: UnsafePointer<Float>, _ columns: Int) -> (Lanes, Lanes) {
        var values = [Float](repeating: 0, count: blockColumns)
        for x in 0..<columns { values[x] = source[x] }
        return (Lanes(values[0..<8]), Lanes(values[8..<16]))
    }

    @inline(__always)
    private static func store(_ low: Lanes, _ high: Lanes, _ target: UnsafeMutablePointer<Float>, _ columns: Int) {
        guard columns == blockColumns else { return storePartial(low, high, target, columns) }
        UnsafeMutableRawPointer(target).storeBytes(of: low, as: Lanes.self)
        UnsafeMutableRawPointer(target + 8).storeBytes(of: high, as: Lanes.self)
    }

    @inline(never)
    private static func storePartial(_ low: Lanes, _ high: Lanes, _ target: UnsafeMutablePointer<Float>, _ columns: Int) {
        for x in 0..<columns { target[x] = x < 8 ? low[x] : high[x - 8] }
    }
}
