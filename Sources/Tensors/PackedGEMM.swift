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
                    ComputeThreads.parallelFor(groups) { work($0, 0..<panels) }
                } else if threads > 1 && panels >= 2 * threads {
                    ComputeThreads.parallelFor(panels) { work(0..<groups, $0) }
                } else {
                    work(0..<groups, 0..<panels)
                }
            }
        }
    }

    /// C's blocks for `groupRange` × `panelRange`, channel block after channel block (C
    /// holds the partial sums between them; the epilogue runs with the last).
    ///
    /// Two orders, by how much of the feature map the range covers. Few pixels (the deep
    /// stages): all of their rows stay in L2 and each weight panel is read from memory once,
    /// staying in L1 while every row group passes. Many pixels: a row group's values stay
    /// in L1 while a chunk of weight panels (in L2) passes, and C is written row by row,
    /// which the prefetchers follow (a column of blocks over hundreds of rows they did not).
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
            if groupRange.count <= groupsInL2 {
                for p in panelRange {
                    for g in groupRange { run(g, p) }
                }
            } else {
                let panelsInL2 = max(1, panelChunkBytes / (blockColumns * steps * 4))
                for chunkStart in stride(from: panelRange.lowerBound, to: panelRange.upperBound, by: panelsInL2) {
                    let chunk = chunkStart..<min(panelRange.upperBound, chunkStart + panelsInL2)
                    for g in groupRange {
                        for p in chunk { run(g, p) }
                    }
                }
            }
        }
    }

    /// One 6×16 block of C over a channel block of every segment, starting from zero or
    /// (`accumulate`) from C's partial sums; with `finish`, the epilogue follows. Only the
    /// block's `rows` × `columns` corner of C is read or written.
    @inline(__always)
    private static func block(_ offsets: UnsafePointer<Int>, a: UnsafePointer<Float>, zeros: UnsafePointer<Float>,
                              segments: Int, channelStart: Int, channels: Int, weights: UnsafePointer<Float>,
                              rows: Int, columns: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                              accumulate: Bool, finish: Bool,
                              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                              activation: GEMM.Epilogue.Activation) {
        typealias Lanes = SIMD8<Float>
        @inline(__always) func start(_ r: Int) -> (Lanes, Lanes) {
            guard accumulate && r < rows else { return (Lanes(), Lanes()) }
            return load(c + r * ldc)
        }
        @inline(__always) func load(_ source: UnsafePointer<Float>) -> (Lanes, Lanes) {
            if columns == blockColumns {
                return (UnsafeRawPointer(source).loadUnaligned(as: Lanes.self),
                        UnsafeRawPointer(source + 8).loadUnaligned(as: Lanes.self))
            }
            var values = SIMD16<Float>()
            for x in 0..<columns { values[x] = source[x] }
            return (values.lowHalf, values.highHalf)
        }
        var (c00, c01) = start(0), (c10, c11) = start(1), (c20, c21) = start(2)
        var (c30, c31) = start(3), (c40, c41) = start(4), (c50, c51) = start(5)
        var w = weights
        for s in 0..<segments {
            let group = offsets + s * blockRows
            @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> {
                let offset = group[r]
                return (offset == RowTable.zeros ? zeros : a + offset) + channelStart
            }
            let (a0, a1, a2, a3, a4, a5) = (row(0), row(1), row(2), row(3), row(4), row(5))
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
        let (biasLow, biasHigh) = finish && bias != nil ? load(bias!) : (Lanes(), Lanes())
        @inline(__always) func store(_ r: Int, _ low: Lanes, _ high: Lanes) {
            guard r < rows else { return }
            var low = low, high = high
            if finish {
                low += biasLow
                high += biasHigh
                if let residual {
                    let (extraLow, extraHigh) = load(residual + r * ldc)
                    low += extraLow
                    high += extraHigh
                }
                low = activation.apply(low)
                high = activation.apply(high)
            }
            let target = c + r * ldc
            if columns == blockColumns {
                UnsafeMutableRawPointer(target).storeBytes(of: low, as: Lanes.self)
                UnsafeMutableRawPointer(target + 8).storeBytes(of: high, as: Lanes.self)
            } else {
                let values = SIMD16<Float>(lowHalf: low, highHalf: high)
                for x in 0..<columns { target[x] = values[x] }
            }
        }
        store(0, c00, c01)
        store(1, c10, c11)
        store(2, c20, c21)
        store(3, c30, c31)
        store(4, c40, c41)
        store(5, c50, c51)
    }
}
