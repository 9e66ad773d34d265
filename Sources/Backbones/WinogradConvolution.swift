import Tensors
import Foundation

/// Winograd's minimal filtering F(2×2, 3×3) for dense 3×3 stride-1 convolutions, on
/// channels-last maps.
///
/// A direct convolution spends 9 multiply-adds per input channel on each output pixel.
/// Winograd's transform computes a 2×2 block of outputs from a 4×4 block of inputs with 16
/// products instead of 36: each 4×4 input tile is transformed (V = Bᵀ d B), each filter
/// once at load time (U = G g Gᵀ), the 16 transformed positions are 16 independent matrix
/// products over channels (M_ξ = V_ξ · U_ξ, tiles × in times in × out), and each output tile
/// comes back as Y = Aᵀ M A. That is 2.25 times fewer multiplications, all of them in
/// `PackedGEMM`. The transforms only add, subtract and halve, so the result stays within a
/// few float roundings of the direct convolution (F(4×4, 3×3) would save more but
/// multiplies by up to 8 and loses digits). Channels-last, both transforms work on eight
/// channels of one tile at a time, and V_ξ's rows (tiles) are the product's rows as they are.
struct WinogradConvolution: Sendable {
    let outChannels: Int
    let inChannels: Int
    /// U: one `in × out` matrix per transformed position ξ, packed for the products.
    let transformedWeight: [PackedWeights]

    /// `weight`: `[out, in·3·3]`, PyTorch's filter order.
    init(weight: Tensor, outChannels: Int, inChannels: Int, microkernel: MicrokernelShape = .preferred) {
        precondition(weight.count == outChannels * inChannels * 9)
        self.outChannels = outChannels
        self.inChannels = inChannels
        let plane = outChannels * inChannels
        // transformed[ξ][c][o]
        let transformed = [Float](unsafeUninitializedCapacity: 16 * plane) { transformed, initialized in
            weight.scalars.withUnsafeBufferPointer { filters in
                for o in 0..<outChannels {
                    for c in 0..<inChannels {
                        let g = filters.baseAddress! + (o * inChannels + c) * 9
                        let at = c * outChannels + o
                        // G g: the 3 kernel rows become 4: g₀, (g₀+g₁+g₂)/2, (g₀−g₁+g₂)/2, g₂.
                        let (g0, g1, g2) = (SIMD4(g[0], g[1], g[2], 0), SIMD4(g[3], g[4], g[5], 0), SIMD4(g[6], g[7], g[8], 0))
                        // (G g) Gᵀ: the same on each of those rows' 3 columns.
                        func store(_ r: SIMD4<Float>, row i: Int) {
                            transformed[(i * 4) * plane + at] = r[0]
                            transformed[(i * 4 + 1) * plane + at] = (r[0] + r[1] + r[2]) / 2
                            transformed[(i * 4 + 2) * plane + at] = (r[0] - r[1] + r[2]) / 2
                            transformed[(i * 4 + 3) * plane + at] = r[2]
                        }
                        store(g0, row: 0)
                        store((g0 + g1 + g2) / 2, row: 1)
                        store((g0 - g1 + g2) / 2, row: 2)
                        store(g2, row: 3)
                    }
                }
            }
            initialized = 16 * plane
        }
        transformedWeight = transformed.withUnsafeBufferPointer { u in
            (0..<16).map {
                PackedWeights(u.baseAddress! + $0 * plane, segments: 1, channels: inChannels, columns: outChannels, microkernel: microkernel)
            }
        }
    }

    /// `input`: `[height, width, in]`; `output`: `[oh, ow, out]` with the output pixel (y, x)
    /// reading input pixels (y − top + ky, x − left + kx). Bias, residual and activation are
    /// applied as each output tile is formed.
    func apply(_ input: [Float], height: Int, width: Int, outputHeight oh: Int, outputWidth ow: Int,
               top: Int, left: Int, bias: [Float], activation: GEMM.Epilogue.Activation,
               residual: [Float]?, output: inout [Float]) {
        let tiles = TileGrid(outputHeight: oh, outputWidth: ow)
        input.withUnsafeBufferPointer { source in
            bias.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { out in
                    let map = Map(source: source.baseAddress!, height: height, width: width, top: top, left: left,
                                  output: out.baseAddress!, outputHeight: oh, outputWidth: ow, bias: b.baseAddress!,
                                  activation: activation, tiles: tiles)
                    if let residual {
                        residual.withUnsafeBufferPointer { r in
                            var map = map
                            map.residual = r.baseAddress!
                            run(map)
                        }
                    } else {
                        run(map)
                    }
                }
            }
        }
    }

    /// Where a convolution reads and writes, for the transforms.
    struct Map: @unchecked Sendable {
        let source: UnsafePointer<Float>
        let height: Int, width: Int, top: Int, left: Int
        let output: UnsafeMutablePointer<Float>
        let outputHeight: Int, outputWidth: Int
        let bias: UnsafePointer<Float>
        let activation: GEMM.Epilogue.Activation
        let tiles: TileGrid
        var residual: UnsafePointer<Float>?
    }

    /// Transformed filters up to this size stay in L2 beside a block of tiles. Then the
    /// tiles go block by block, each transformed, multiplied and transformed back while its
    /// V and M (16 rows per tile) are still in L2, a block per thread at a time; the 56×56
    /// layers of a ResNet (64 channels) otherwise wrote and reread 13 MB per convolution.
    /// Larger filters (the deep layers, few tiles) are read once for all tiles instead.
    static let fusedWeightBytes = 512 * 1024
    /// Bytes of V and M for one block of tiles.
    static let blockBytes = 384 * 1024

    private func run(_ map: Map) {
        let (cin, cout) = (inChannels, outChannels)
        let count = map.tiles.count
        if 16 * cin * cout * 4 <= Self.fusedWeightBytes {
            let perTile = 16 * (cin + cout) * 4
            // A multiple of 24 tiles: whole row groups of either kernel (6 or 8 rows).
            let blockTiles = max(24, Self.blockBytes / perTile / 24 * 24)
            let blocks = (count + blockTiles - 1) / blockTiles
            ComputeThreads.parallelFor(blocks, chunksPerThread: 4) { range in
                let inputPlane = Self.planeStride(blockTiles * cin), productPlane = Self.planeStride(blockTiles * cout)
                var v = [Float](unsafeUninitializedCapacity: 16 * inputPlane) { _, n in n = 16 * inputPlane }
                var m = [Float](unsafeUninitializedCapacity: 16 * productPlane) { _, n in n = 16 * productPlane }
                v.withUnsafeMutableBufferPointer { v in
                    m.withUnsafeMutableBufferPointer { m in
                        for block in range {
                            let first = block * blockTiles, tiles = first..<min(count, first + blockTiles)
                            transformInput(map, tiles, v.baseAddress!, inputPlane)
                            multiply(v.baseAddress!, inputPlane, tiles.count, m.baseAddress!, productPlane, parallel: false)
                            transformOutput(map, tiles, m.baseAddress!, productPlane)
                        }
                    }
                }
            }
        } else {
            let inputPlane = Self.planeStride(count * cin), productPlane = Self.planeStride(count * cout)
            var v = [Float](unsafeUninitializedCapacity: 16 * inputPlane) { _, n in n = 16 * inputPlane }
            var m = [Float](unsafeUninitializedCapacity: 16 * productPlane) { _, n in n = 16 * productPlane }
            v.withUnsafeMutableBufferPointer { vBuffer in
                m.withUnsafeMutableBufferPointer { mBuffer in
                    nonisolated(unsafe) let (v, m) = (vBuffer.baseAddress!, mBuffer.baseAddress!)
                    let tileRows = map.tiles.wide
                    ComputeThreads.parallelFor(map.tiles.high, minimumPerThread: max(1, 16384 / max(1, tileRows * cin * 16)),
                                               chunksPerThread: 4) { rows in
                        transformInput(map, rows.lowerBound * tileRows..<rows.upperBound * tileRows, v + rows.lowerBound * tileRows * cin, inputPlane)
                    }
                    multiply(v, inputPlane, count, m, productPlane, parallel: true)
                    ComputeThreads.parallelFor(map.tiles.high, minimumPerThread: max(1, 16384 / max(1, tileRows * cout * 16)),
                                               chunksPerThread: 4) { rows in
                        transformOutput(map, rows.lowerBound * tileRows..<rows.upperBound * tileRows, m + rows.lowerBound * tileRows * cout, productPlane)
                    }
                }
            }
        }
    }

    /// M_ξ = V_ξ · U_ξ for the 16 positions over `tiles` rows; with `parallel`, one position
    /// per thread at a time (they are independent), each on one core.
    private func multiply(_ v: UnsafePointer<Float>, _ inputPlane: Int, _ tiles: Int,
                          _ m: UnsafeMutablePointer<Float>, _ productPlane: Int, parallel: Bool) {
        let rows = RowTable.contiguous(rows: tiles, stride: inChannels)
        nonisolated(unsafe) let (v, m) = (v, m)
        let products = { (positions: Range<Int>) in
            for xi in positions {
                PackedGEMM.multiply(transformedWeight[xi], a: v + xi * inputPlane, rows: rows, c: m + xi * productPlane, parallel: false)
            }
        }
        if parallel { ComputeThreads.parallelFor(16, chunksPerThread: 8, products) } else { products(0..<16) }
    }

    /// The 2×2 output tiles covering an output map.
    struct TileGrid {
        let high: Int, wide: Int
        var count: Int { high * wide }

        init(outputHeight: Int, outputWidth: Int) {
            high = (outputHeight + 1) / 2
            wide = (outputWidth + 1) / 2
        }
    }

    /// Distance between the 16 transformed planes: a little more than one plane, so that the
    /// 16 rows each tile touches never sit a multiple of 4 KB apart (the L1 cache's sets
    /// repeat every 4 KB; 16 streams at such a distance thrash it: measured 3× slower).
    static func planeStride(_ count: Int) -> Int {
        var stride = (count + 15) / 16 * 16 + 16
        if stride % 1024 == 0 { stride += 16 }
        return stride
    }

    /// V = Bᵀ d B for `tiles`, eight channels at a time: V_ξ's row t (planes `plane` apart,
    /// counted from the range's first tile) holds tile t's position ξ for every channel.
    /// Input pixels outside the map read a row of zeros.
    private func transformInput(_ map: Map, _ tiles: Range<Int>, _ target: UnsafeMutablePointer<Float>, _ plane: Int) {
        let cin = inChannels, (height, width, source) = (map.height, map.width, map.source)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: cin) { zeroBuffer in
            let zeros = zeroBuffer.baseAddress!
            zeros.initialize(repeating: 0, count: cin)
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 16) { pixelBuffer in
                let pixels = pixelBuffer.baseAddress!
                for tile in tiles {
                    let (ty, tx) = (tile / map.tiles.wide, tile % map.tiles.wide)
                    for i in 0..<4 {
                        let y = 2 * ty + i - map.top
                        for j in 0..<4 {
                            let x = 2 * tx + j - map.left
                            pixels[i * 4 + j] = y >= 0 && y < height && x >= 0 && x < width
                                ? source + (y * width + x) * cin : UnsafePointer(zeros)
                        }
                    }
                    let out = target + (tile - tiles.lowerBound) * cin
                    var c = 0
                    while c < cin {
                        let lanes = min(8, cin - c)
                        @inline(__always) func d(_ i: Int, _ j: Int) -> SIMD8<Float> { VectorMath.load(pixels[i * 4 + j] + c, lanes: lanes) }
                        // Bᵀ d: rows (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃), column by column.
                        @inline(__always) func column(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                            let (d0, d1, d2, d3) = (d(0, j), d(1, j), d(2, j), d(3, j))
                            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                        }
                        let (k0, k1, k2, k3) = (column(0), column(1), column(2), column(3))
                        // (Bᵀ d) B: the same across each row's columns, giving V's row i.
                        @inline(__always) func storeRow(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>,
                                                        _ r3: SIMD8<Float>, _ i: Int) {
                            VectorMath.store(r0 - r2, to: out + (i * 4) * plane + c, lanes: lanes)
                            VectorMath.store(r1 + r2, to: out + (i * 4 + 1) * plane + c, lanes: lanes)
                            VectorMath.store(r2 - r1, to: out + (i * 4 + 2) * plane + c, lanes: lanes)
                            VectorMath.store(r1 - r3, to: out + (i * 4 + 3) * plane + c, lanes: lanes)
                        }
                        storeRow(k0.0, k1.0, k2.0, k3.0, 0)
                        storeRow(k0.1, k1.1, k2.1, k3.1, 1)
                        storeRow(k0.2, k1.2, k2.2, k3.2, 2)
                        storeRow(k0.3, k1.3, k2.3, k3.3, 3)
                        c += lanes
                    }
                }
            }
        }
    }

    /// Y = Aᵀ M A for `tiles` (M's rows counted from the range's first tile), eight output
    /// channels at a time, plus bias and residual, then the activation; the odd last row or
    /// column of an odd-sized output is dropped.
    ///
    /// None, ReLU and ReLU6 are applied as a clamp, as the product kernels do: with GELU's
    /// polynomial in the same switch, the per-pixel write was too large to inline and took
    /// its vectors through memory (measured: 0.5 ms of a 56×56×64 convolution's 1.85 ms).
    private func transformOutput(_ map: Map, _ tiles: Range<Int>, _ products: UnsafePointer<Float>, _ plane: Int) {
        if let clamp = map.activation.clampBounds {
            transformOutput(map, tiles, products, plane, clamp: clamp)
        } else {
            transformOutput(map, tiles, products, plane, clamp: (-.infinity, .infinity))
            applyActivation(map, tiles)
        }
    }

    @inline(__always)
    private func transformOutput(_ map: Map, _ tiles: Range<Int>, _ products: UnsafePointer<Float>, _ plane: Int,
                                 clamp: (lower: Float, upper: Float)) {
        typealias Lanes = SIMD8<Float>
        let cout = outChannels, (oh, ow) = (map.outputHeight, map.outputWidth)
        let (bias, residual, output) = (map.bias, map.residual, map.output)
        let (lower, upper) = (Lanes(repeating: clamp.lower), Lanes(repeating: clamp.upper))
        for tile in tiles {
            let m = products + (tile - tiles.lowerBound) * cout
            let (y, x) = (2 * (tile / map.tiles.wide), 2 * (tile % map.tiles.wide))
            let (right, below) = (x + 1 < ow, y + 1 < oh)
            let pixel = (y * ow + x) * cout
            var o = 0
            while o < cout {
                let lanes = min(8, cout - o)
                @inline(__always) func load(_ xi: Int) -> Lanes { VectorMath.load(m + xi * plane + o, lanes: lanes) }
                // Aᵀ M: rows (m₀ + m₁ + m₂, m₁ − m₂ − m₃), for each column j.
                let (m0, m1, m2, m3) = (load(0), load(4), load(8), load(12))
                let (u0, l0) = (m0 + m1 + m2, m1 - m2 - m3)
                let (n0, n1, n2, n3) = (load(1), load(5), load(9), load(13))
                let (u1, l1) = (n0 + n1 + n2, n1 - n2 - n3)
                let (p0, p1, p2, p3) = (load(2), load(6), load(10), load(14))
                let (u2, l2) = (p0 + p1 + p2, p1 - p2 - p3)
                let (q0, q1, q2, q3) = (load(3), load(7), load(11), load(15))
                let (u3, l3) = (q0 + q1 + q2, q1 - q2 - q3)
                let offset = VectorMath.load(bias + o, lanes: lanes)
                @inline(__always) func write(_ value: Lanes, _ at: Int) {
                    var value = value + offset
                    if let residual { value += VectorMath.load(residual + at, lanes: lanes) }
                    value = value.replacing(with: lower, where: value .< lower).replacing(with: upper, where: value .> upper)
                    VectorMath.store(value, to: output + at, lanes: lanes)
                }
                // (Aᵀ M) A: the same across the columns.
                write(u0 + u1 + u2, pixel + o)
                if right { write(u1 - u2 - u3, pixel + cout + o) }
                if below {
                    write(l0 + l1 + l2, pixel + ow * cout + o)
                    if right { write(l1 - l2 - l3, pixel + (ow + 1) * cout + o) }
                }
                o += lanes
            }
        }
    }

    /// GELU (the one activation not applied as a clamp) over the output pixels of `tiles`,
    /// after `transformOutput` wrote them unclamped.
    private func applyActivation(_ map: Map, _ tiles: Range<Int>) {
        let cout = outChannels, (oh, ow) = (map.outputHeight, map.outputWidth)
        for tile in tiles {
            let (y, x) = (2 * (tile / map.tiles.wide), 2 * (tile % map.tiles.wide))
            for dy in 0..<min(2, oh - y) {
                let row = map.output + ((y + dy) * ow + x) * cout
                VectorMath.gelu(UnsafeMutableBufferPointer(start: row, count: min(2, ow - x) * cout), parallel: false)
            }
        }
    }
}
