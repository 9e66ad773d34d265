/// Products with a left matrix packed once ahead of time: a convolution's weights.
///
/// BLAS `sgemm` repacks both operands on every call. For a convolution's weights that is
/// the same copy each forward pass — a ResNet-50 has 100 MB of them, about 13% of its
/// forward pass went to that copy — and on the shallow products of early layers (64 input
/// channels) it ran at 46–59 GFLOP/s against up to 88 on deeper ones, separate zeroing,
/// bias and activation passes over the output weighing on products only 64 steps deep.
/// Here the weights are packed when the model loads, the right operand (the feature map)
/// is packed into 16-column panels once per product, the work is blocked so that a slice
/// of weights stays in L2 and a panel's depth block in L1, and each 6×16 block of the
/// output is finished in registers: bias, residual and activation applied, written once.
///
/// The block is 12 eight-lane accumulators, one fused multiply-add per lane and step; it
/// runs near the core's peak only when compiled for a CPU with FMA (`Tools/build-release.sh`).
public enum PackedGEMM {
    /// Output rows per block (the left matrix is packed in groups of this many rows).
    public static let blockRows = 6
    /// Output columns per block (two eight-lane vectors).
    public static let blockColumns = 16
    /// Bytes of packed A kept in L2 while the panels pass by (of 512 KB on the machines
    /// measured, leaving room for the panels and C).
    static let sliceBytes = 192 * 1024
    /// Depth steps per pass: a 16-column panel's block of them is 16 KB, half of L1.
    static let depthBlock = 256

    /// C[m×n] = A · B, then the epilogue, for A packed (`m` = `a.rows`, `k` = `a.depth`) and
    /// B row-major `k × n` with leading dimension `ldb`. The epilogue's bias must be
    /// per-row (one per output channel) or none; its residual is laid out like C.
    /// With `parallel`, row groups or column panels are split across the compute threads.
    public static func multiply(_ a: PackedMatrix, b: UnsafePointer<Float>, ldb: Int? = nil, n: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                                epilogue: GEMM.Epilogue = .none, parallel: Bool = true) {
        let ldb = ldb ?? n
        nonisolated(unsafe) let b = b
        split(a, n: n, parallel: parallel) { panelRange, groupRange in
            // The panels this thread multiplies, packed up front. Cache-line aligned, so
            // that no 8-lane load of a panel straddles two lines.
            let panelFloats = a.depth * blockColumns
            let memory = UnsafeMutableRawPointer.allocate(byteCount: max(1, panelRange.count * panelFloats) * 4, alignment: 64)
            defer { memory.deallocate() }
            let panels = memory.bindMemory(to: Float.self, capacity: panelRange.count * panelFloats)
            for (index, p) in panelRange.enumerated() {
                let column = p * blockColumns
                packPanel(b + column, ldb: ldb, depth: a.depth, width: min(blockColumns, n - column), into: panels + index * panelFloats)
            }
            multiplyPanels(a, panels, panelRange, groupRange, n: n, c: c, ldc: ldc ?? n, epilogue: epilogue)
        }
    }

    /// The same product with B already in panels, as a producer that writes them directly
    /// saves the packing pass: `panels` holds ⌈n / 16⌉ panels, panel p being B's columns
    /// 16p..<16p+16 as `k` steps of 16 values (columns past n are multiplied and dropped).
    public static func multiply(_ a: PackedMatrix, panels: UnsafePointer<Float>, n: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                                epilogue: GEMM.Epilogue = .none, parallel: Bool = true) {
        nonisolated(unsafe) let panels = panels
        let panelFloats = a.depth * blockColumns
        split(a, n: n, parallel: parallel) { panelRange, groupRange in
            multiplyPanels(a, panels + panelRange.lowerBound * panelFloats, panelRange, groupRange, n: n, c: c,
                           ldc: ldc ?? n, epilogue: epilogue)
        }
    }

    /// Runs `work(panels, row groups)` over the whole product, split across the compute
    /// threads when `parallel` and the product is large enough. Each thread reads all of
    /// the operand that is not split, so the larger is split: the weights (row groups) on
    /// the deep layers, the feature map (panels) on the wide ones.
    private static func split(_ a: PackedMatrix, n: Int, parallel: Bool, _ work: (Range<Int>, Range<Int>) -> Void) {
        let (m, k) = (a.rows, a.depth)
        guard m > 0, n > 0 else { return }
        let panels = (n + blockColumns - 1) / blockColumns, groups = a.groups
        let threads = parallel && 2.0 * Double(m) * Double(n) * Double(k) >= GEMM.minimumParallelFlops ? ComputeThreads.count : 1
        let splitRows = groups >= 2 * threads && (m >= n || panels < 2 * threads)
        if threads > 1 && splitRows {
            ComputeThreads.parallelFor(groups) { work(0..<panels, $0) }
        } else if threads > 1 && panels >= 2 * threads {
            ComputeThreads.parallelFor(panels) { work($0, 0..<groups) }
        } else {
            work(0..<panels, 0..<groups)
        }
    }

    /// C's blocks for `panelRange` × `groupRange`, `panels` pointing at the first panel of
    /// the range. The depth runs in blocks of `depthBlock` steps, so that a panel's block
    /// stays in L1; within one, rows of A in slices that stay in L2 while every panel passes
    /// by. (Sweeping all of A for each panel read a 1 MB weight matrix 13 times per product
    /// on a ResNet's 14×14 layers.) C holds the partial sums between depth blocks; the
    /// epilogue runs with the last.
    private static func multiplyPanels(_ a: PackedMatrix, _ panels: UnsafePointer<Float>, _ panelRange: Range<Int>,
                                       _ groupRange: Range<Int>, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       epilogue: GEMM.Epilogue) {
        let (m, k) = (a.rows, a.depth)
        var bias: UnsafePointer<Float>?
        switch epilogue.bias {
        case .none: bias = nil
        case .perRow(let values): bias = values
        case .perColumn: preconditionFailure("PackedGEMM takes a per-row bias only")
        }
        let (residual, activation) = (epilogue.residual, epilogue.activation)
        let panelFloats = k * blockColumns
        a.storage.withUnsafeBufferPointer { storage in
            let packed = storage.baseAddress!
            let depthBlocks = max(1, (k + depthBlock - 1) / depthBlock)
            for depthIndex in 0..<depthBlocks {
                let start = depthIndex * depthBlock, steps = min(depthBlock, k - start)
                let groupsPerSlice = max(1, sliceBytes / max(1, steps * blockRows * 4))
                for sliceStart in stride(from: groupRange.lowerBound, to: groupRange.upperBound, by: groupsPerSlice) {
                    let slice = sliceStart..<min(groupRange.upperBound, sliceStart + groupsPerSlice)
                    for (index, p) in panelRange.enumerated() {
                        let column = p * blockColumns, width = min(blockColumns, n - column)
                        for g in slice {
                            let row = g * blockRows
                            block(depth: steps, a: packed + (g * k + start) * blockRows,
                                  panel: panels + index * panelFloats + start * blockColumns,
                                  rows: min(blockRows, m - row), columns: width, c: c + row * ldc + column, ldc: ldc,
                                  accumulate: depthIndex > 0, finish: depthIndex == depthBlocks - 1,
                                  bias: bias.map { $0 + row }, residual: residual.map { $0 + row * ldc + column },
                                  activation: activation)
                        }
                    }
                }
            }
        }
    }

    /// Copies `width` (≤ 16) columns of B's `depth` rows into a contiguous `depth × 16`
    /// panel, zero-filling missing columns so the block never reads past B.
    @inline(__always)
    private static func packPanel(_ b: UnsafePointer<Float>, ldb: Int, depth: Int, width: Int,
                                  into panel: UnsafeMutablePointer<Float>) {
        if width == blockColumns {
            for step in 0..<depth {
                let values = UnsafeRawPointer(b + step * ldb).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(panel + step * blockColumns).storeBytes(of: values, as: SIMD16<Float>.self)
            }
        } else {
            for step in 0..<depth {
                let target = panel + step * blockColumns
                for x in 0..<blockColumns { target[x] = x < width ? b[step * ldb + x] : 0 }
            }
        }
    }

    /// One 6×16 block of C over `depth` steps, starting from zero or (`accumulate`) from
    /// C's partial sums; with `finish`, the epilogue follows. Only the block's `rows` ×
    /// `columns` corner of C is read or written.
    @inline(__always)
    private static func block(depth: Int, a: UnsafePointer<Float>, panel: UnsafePointer<Float>,
                              rows: Int, columns: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                              accumulate: Bool, finish: Bool,
                              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                              activation: GEMM.Epilogue.Activation) {
        typealias Lanes = SIMD8<Float>
        @inline(__always) func start(_ r: Int) -> (Lanes, Lanes) {
            guard accumulate && r < rows else { return (Lanes(), Lanes()) }
            let source = c + r * ldc
            if columns == blockColumns {
                return (UnsafeRawPointer(source).loadUnaligned(as: Lanes.self), UnsafeRawPointer(source + 8).loadUnaligned(as: Lanes.self))
            }
            var values = SIMD16<Float>()
            for x in 0..<columns { values[x] = source[x] }
            return (values.lowHalf, values.highHalf)
        }
        var (c00, c01) = start(0), (c10, c11) = start(1), (c20, c21) = start(2)
        var (c30, c31) = start(3), (c40, c41) = start(4), (c50, c51) = start(5)
        var a = a, b = panel
        for _ in 0..<depth {
            let b0 = UnsafeRawPointer(b).loadUnaligned(as: Lanes.self)
            let b1 = UnsafeRawPointer(b + 8).loadUnaligned(as: Lanes.self)
            var x = Lanes(repeating: a[0])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = Lanes(repeating: a[1])
            c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = Lanes(repeating: a[2])
            c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = Lanes(repeating: a[3])
            c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = Lanes(repeating: a[4])
            c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = Lanes(repeating: a[5])
            c50.addProduct(x, b0); c51.addProduct(x, b1)
            a += blockRows
            b += blockColumns
        }
        @inline(__always) func store(_ r: Int, _ low: Lanes, _ high: Lanes) {
            guard r < rows else { return }
            var low = low, high = high
            if finish, let bias {
                low += bias[r]
                high += bias[r]
            }
            let target = c + r * ldc
            if columns == blockColumns {
                if finish {
                    if let residual {
                        low += UnsafeRawPointer(residual + r * ldc).loadUnaligned(as: Lanes.self)
                        high += UnsafeRawPointer(residual + r * ldc + 8).loadUnaligned(as: Lanes.self)
                    }
                    low = activation.apply(low)
                    high = activation.apply(high)
                }
                UnsafeMutableRawPointer(target).storeBytes(of: low, as: Lanes.self)
                UnsafeMutableRawPointer(target + 8).storeBytes(of: high, as: Lanes.self)
            } else {
                var values = SIMD16<Float>(lowHalf: low, highHalf: high)
                if finish {
                    if let residual { for x in 0..<columns { values[x] += residual[r * ldc + x] } }
                    values = SIMD16(lowHalf: activation.apply(values.lowHalf), highHalf: activation.apply(values.highHalf))
                }
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

/// A row-major `rows × depth` matrix packed for the left side of `PackedGEMM`: groups of 6
/// rows, each stored step by step (6 values per step of the depth), the last group padded
/// with zero rows.
public struct PackedMatrix: Sendable {
    public let rows: Int
    public let depth: Int
    let storage: [Float]

    var groups: Int { (rows + PackedGEMM.blockRows - 1) / PackedGEMM.blockRows }

    /// `values`: row-major, `rows × depth`.
    public init(_ values: UnsafePointer<Float>, rows: Int, depth: Int) {
        self.rows = rows
        self.depth = depth
        let groupRows = PackedGEMM.blockRows
        let groups = (rows + groupRows - 1) / groupRows
        storage = [Float](unsafeUninitializedCapacity: groups * depth * groupRows) { packed, initialized in
            for g in 0..<groups {
                for step in 0..<depth {
                    for r in 0..<groupRows {
                        let row = g * groupRows + r
                        packed[(g * depth + step) * groupRows + r] = row < rows ? values[row * depth + step] : 0
                    }
                }
            }
            initialized = groups * depth * groupRows
        }
    }

    /// A rank-2 tensor, `[rows, depth]`.
    public init(_ matrix: Tensor) {
        precondition(matrix.rank == 2, "PackedMatrix needs a matrix, got shape \(matrix.shape)")
        self = matrix.scalars.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, rows: matrix.shape[0], depth: matrix.shape[1]) }
    }
}
