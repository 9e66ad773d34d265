import CKernelSupport
import CWideKernel

/// The block of C one kernel call computes, in registers, over a channel block.
///
/// The narrow block (6 rows × 16 columns: twelve eight-lane accumulators) fills the sixteen
/// vector registers of AVX2. With AVX-512 there are 32 registers of sixteen lanes, and the
/// wide block (8 × 32: sixteen accumulators) does 2.7 times the work per call for the same
/// bookkeeping and half the instructions per multiply-add: the narrow one needs four
/// instructions per cycle to keep both FMA pipes busy, about what a core sustains, and
/// lost a fifth of its speed to the per-block overhead on 64-deep products. Which one runs
/// is decided when the program starts, from the CPU (`InstructionSet`); both give the same
/// results everywhere, the wide one slowly without AVX-512.
public enum MicrokernelShape: Sendable, CaseIterable {
    case narrow, wide

    public static let preferred: MicrokernelShape = InstructionSet.usesAVX512 ? .wide : .narrow

    /// Bytes of one packed (channel block, panel) slice at most: 256 channel steps for
    /// either kernel. The wide kernel's 128 steps in 16 KB reloaded C's partial sums twice
    /// as often; with 32 KB, ResNet-50 on one thread took 66 ms instead of 71, and the
    /// ViT-S/14 forward 133 instead of 140 (AMD EPYC, Zen 4). The narrow kernel measured no
    /// better with 24 KB.
    public var sliceBytes: Int { self == .narrow ? 16 * 1024 : 32 * 1024 }

    /// Columns (output channels) per block: the width of a weight panel.
    public var columns: Int { self == .narrow ? NarrowKernel.columns : WideKernel<EightRows>.columns }
}

/// One kernel: C's `rows × columns` block over the channel block `channelStart..<+channels`
/// of every segment, row r of segment s read from `a + offsets[r · segments + s]` (or the
/// zero row), the weights one (block, panel) slice. Starts from zero or (`accumulate`)
/// from C's partial sums, applies `finish` if given, and writes back only the
/// `validRows × validColumns` corner.
protocol Microkernel {
    static var rows: Int { get }
    static var columns: Int { get }
    static func block(_ offsets: UnsafePointer<Int>, segments: Int, a: UnsafePointer<Float>, zeros: UnsafePointer<Float>,
                      channelStart: Int, channels: Int, weights: UnsafePointer<Float>,
                      validRows: Int, validColumns: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                      finish: FusedEpilogue?)
}

/// What a kernel adds to its block in registers before the one write: the bias of its
/// columns, the residual (laid out like C, at the block's first element), then a clamp
/// (none, ReLU or ReLU6; GELU is applied by `PackedGEMM` afterwards).
struct FusedEpilogue {
    let bias: UnsafePointer<Float>?
    let residual: UnsafePointer<Float>?
    let lower: Float, upper: Float
}

/// How far ahead of the kernel the weights are prefetched, in floats (4 KB): on the deep
/// layers each weight panel comes from memory, read by only a few row groups, faster than
/// the hardware prefetchers fetch it (measured: 54 → 73 GFLOP/s on a 7×7 stage's Winograd
/// product, no change where the weights are in cache). Past the end of the weights it
/// reads nothing: a prefetch never faults.
let prefetchDistance = 1024

/// Asks for the block's rows of C (to be written) and of the residual (to be read at the
/// end) before the products start, so that their misses overlap the arithmetic (measured
/// on a 56×56 layer's 64-deep product with a residual: 58 → 68 GFLOP/s).
@inline(__always)
func prefetchEdges(_ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ residual: UnsafePointer<Float>?, rows: Int, lines: Int) {
    for r in 0..<rows {
        for line in 0..<lines {
            spx_prefetch_for_writing(c + (r &* ldc &+ line &* 16))
            if let residual { spx_prefetch(residual + (r &* ldc &+ line &* 16)) }
        }
    }
}

/// Where a table entry points: the feature map, or the row of zeros.
@inline(__always)
func kernelRow(_ offset: Int, _ a: UnsafePointer<Float>, _ zeros: UnsafePointer<Float>) -> UnsafePointer<Float> {
    offset == RowTable.zeros ? zeros : a + offset
}

/// 6 × 16: twelve eight-lane accumulators, for AVX2.
enum NarrowKernel: Microkernel {
    static let rows = 6
    static let columns = 16
    typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func block(_ offsets: UnsafePointer<Int>, segments: Int, a: UnsafePointer<Float>, zeros: UnsafePointer<Float>,
                      channelStart: Int, channels: Int, weights: UnsafePointer<Float>,
                      validRows: Int, validColumns: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                      finish: FusedEpilogue?) {
        let (v, n, k, f) = (validRows, validColumns, accumulate, finish)
        prefetchEdges(c, ldc, finish?.residual, rows: rows, lines: 1)
        var (c00, c01) = start(c, 0, ldc, v, n, k), (c10, c11) = start(c, 1, ldc, v, n, k), (c20, c21) = start(c, 2, ldc, v, n, k)
        var (c30, c31) = start(c, 3, ldc, v, n, k), (c40, c41) = start(c, 4, ldc, v, n, k), (c50, c51) = start(c, 5, ldc, v, n, k)
        var w = weights
        for s in 0..<segments {
            let a0 = kernelRow(offsets[s], a, zeros) + channelStart
            let a1 = kernelRow(offsets[segments + s], a, zeros) + channelStart
            let a2 = kernelRow(offsets[2 * segments + s], a, zeros) + channelStart
            let a3 = kernelRow(offsets[3 * segments + s], a, zeros) + channelStart
            let a4 = kernelRow(offsets[4 * segments + s], a, zeros) + channelStart
            let a5 = kernelRow(offsets[5 * segments + s], a, zeros) + channelStart
            for i in 0..<channels {
                spx_prefetch(w + prefetchDistance)
                let b0 = load(w), b1 = load(w + 8)
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
                w += columns
            }
        }
        store(c00, c01, c, 0, ldc, v, n, f); store(c10, c11, c, 1, ldc, v, n, f); store(c20, c21, c, 2, ldc, v, n, f)
        store(c30, c31, c, 3, ldc, v, n, f); store(c40, c41, c, 4, ldc, v, n, f); store(c50, c51, c, 5, ldc, v, n, f)
    }

    /// Row r's accumulators: zero, or C's partial sums.
    @inline(__always)
    static func start(_ c: UnsafeMutablePointer<Float>, _ r: Int, _ ldc: Int, _ validRows: Int, _ validColumns: Int,
                      _ accumulate: Bool) -> (Lanes, Lanes) {
        guard accumulate && r < validRows else { return (Lanes(), Lanes()) }
        let source = c + r * ldc
        return validColumns == columns ? (load(source), load(source + 8)) : loadPartial(source, validColumns)
    }

    /// Row r of the block, finished if asked, written back.
    @inline(__always)
    static func store(_ low: Lanes, _ high: Lanes, _ c: UnsafeMutablePointer<Float>, _ r: Int, _ ldc: Int,
                      _ validRows: Int, _ validColumns: Int, _ finish: FusedEpilogue?) {
        guard r < validRows else { return }
        var (low, high) = (low, high)
        let full = validColumns == columns
        if let finish {
            if let bias = finish.bias {
                let (extraLow, extraHigh) = full ? (load(bias), load(bias + 8)) : loadPartial(bias, validColumns)
                low += extraLow
                high += extraHigh
            }
            if let residual = finish.residual.map({ $0 + r * ldc }) {
                let (extraLow, extraHigh) = full ? (load(residual), load(residual + 8)) : loadPartial(residual, validColumns)
                low += extraLow
                high += extraHigh
            }
            let (lower, upper) = (Lanes(repeating: finish.lower), Lanes(repeating: finish.upper))
            low = low.replacing(with: lower, where: low .< lower).replacing(with: upper, where: low .> upper)
            high = high.replacing(with: lower, where: high .< lower).replacing(with: upper, where: high .> upper)
        }
        let target = c + r * ldc
        guard full else { return storePartial(low, high, target, validColumns) }
        UnsafeMutableRawPointer(target).storeBytes(of: low, as: Lanes.self)
        UnsafeMutableRawPointer(target + 8).storeBytes(of: high, as: Lanes.self)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(never)
    static func loadPartial(_ source: UnsafePointer<Float>, _ count: Int) -> (Lanes, Lanes) {
        var (low, high) = (Lanes(), Lanes())
        for x in 0..<count { if x < 8 { low[x] = source[x] } else { high[x - 8] = source[x] } }
        return (low, high)
    }

    @inline(never)
    static func storePartial(_ low: Lanes, _ high: Lanes, _ target: UnsafeMutablePointer<Float>, _ count: Int) {
        for x in 0..<count { target[x] = x < 8 ? low[x] : high[x - 8] }
    }
}

/// How many rows a wide block computes. Eight as a rule; seven where that pads less: a
/// ResNet at 224 has 49-pixel maps (7×7, and 7×7 Winograd tiles of the 14×14 maps), which
/// in blocks of eight computed 56 rows, an eighth of those products wasted. Every map side
/// there is a multiple of seven, so seven-row blocks waste nothing on them.
protocol WideBlockHeight {
    static var rows: Int { get }
}

enum EightRows: WideBlockHeight {
    static var rows: Int { 8 }
}

enum SevenRows: WideBlockHeight {
    static var rows: Int { 7 }
}

/// 8 × 32 (or 7 × 32): sixteen (fourteen) sixteen-lane accumulators, for AVX-512. The
/// kernel is C (`CWideKernel`), compiled for AVX-512 and again for the binary's baseline,
/// since Swift cannot compile one function for an instruction set the rest of the binary
/// does not assume; `InstructionSet` picks the build once. One call computes a whole
/// block (hundreds of multiply-adds), so the call through a pointer costs nothing
/// measurable.
enum WideKernel<Height: WideBlockHeight>: Microkernel {
    static var rows: Int { Height.rows }
    static var columns: Int { 32 }

    @inline(__always)
    static func block(_ offsets: UnsafePointer<Int>, segments: Int, a: UnsafePointer<Float>, zeros: UnsafePointer<Float>,
                      channelStart: Int, channels: Int, weights: UnsafePointer<Float>,
                      validRows: Int, validColumns: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                      finish: FusedEpilogue?) {
        let kernel = InstructionSet.wideBlock
        guard let finish else {
            return kernel(Int32(rows), offsets, segments, a, zeros, channelStart, channels, weights, Int32(validRows),
                          Int32(validColumns), c, ldc, accumulate ? 1 : 0, nil)
        }
        var epilogue = spx_epilogue(bias: finish.bias, residual: finish.residual, lower: finish.lower, upper: finish.upper)
        kernel(Int32(rows), offsets, segments, a, zeros, channelStart, channels, weights, Int32(validRows),
               Int32(validColumns), c, ldc, accumulate ? 1 : 0, &epilogue)
    }
}
