import Tensors

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
    init(weight: Tensor, outChannels: Int, inChannels: Int) {
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
            (0..<16).map { PackedWeights(u.baseAddress! + $0 * plane, segments: 1, channels: inChannels, columns: outChannels) }
        }
    }

    /// `input`: `[height, width, in]`; `output`: `[oh, ow, out]` with the output pixel (y, x)
    /// reading input pixels (y − top + ky, x − left + kx). Bias, residual and activation are
    /// applied as each output tile is formed.
    func apply(_ input: [Float], height: Int, width: Int, outputHeight oh: Int, outputWidth ow: Int,
               top: Int, left: Int, bias: [Float], activation: GEMM.Epilogue.Activation,
               residual: [Float]?, output: inout [Float]) {
        let tiles = TileGrid(outputHeight: oh, outputWidth: ow)
        let (cin, cout) = (inChannels, outChannels)
        let inputPlane = Self.planeStride(tiles.count * cin), productPlane = Self.planeStride(tiles.count * cout)
        var transformedInput = [Float](unsafeUninitializedCapacity: 16 * inputPlane) { _, n in n = 16 * inputPlane }
        var products = [Float](unsafeUninitializedCapacity: 16 * productPlane) { _, n in n = 16 * productPlane }
        input.withUnsafeBufferPointer { source in
            transformedInput.withUnsafeMutableBufferPointer { target in
                transformInput(source.baseAddress!, height, width, tiles, top, left, target.baseAddress!, inputPlane)
            }
        }
        // The 16 products are independent: one per thread at a time, each on one core.
        let rows = RowTable.contiguous(rows: tiles.count, stride: cin)
        transformedInput.withUnsafeBufferPointer { v in
            products.withUnsafeMutableBufferPointer { m in
                nonisolated(unsafe) let (v, m) = (v.baseAddress!, m.baseAddress!)
                ComputeThreads.parallelFor(16) { positions in
                    for xi in positions {
                        PackedGEMM.multiply(transformedWeight[xi], a: v + xi * inputPlane, rows: rows,
                                            c: m + xi * productPlane, parallel: false)
                    }
                }
            }
        }
        products.withUnsafeBufferPointer { m in
            bias.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { out in
                    if let residual {
                        residual.withUnsafeBufferPointer { r in
                            transformOutput(m.baseAddress!, productPlane, tiles, oh, ow, b.baseAddress!, r.baseAddress,
                                            activation, out.baseAddress!)
                        }
                    } else {
                        transformOutput(m.baseAddress!, productPlane, tiles, oh, ow, b.baseAddress!, nil,
                                        activation, out.baseAddress!)
                    }
                }
            }
        }
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

    /// Eight channels of a pixel, or fewer at the end of a row of channels (the rest zero).
    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ lanes: Int) -> SIMD8<Float> {
        if lanes == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        var v = SIMD8<Float>()
        for i in 0..<lanes { v[i] = p[i] }
        return v
    }

    @inline(__always)
    private static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
        if lanes == 8 {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
        } else {
            for i in 0..<lanes { p[i] = v[i] }
        }
    }

    /// V = Bᵀ d B for every tile, eight channels at a time: V_ξ's row t (planes `plane`
    /// apart) holds tile t's position ξ for every channel. Input pixels outside the map
    /// read a row of zeros. Rows of tiles are split across threads.
    private func transformInput(_ source: UnsafePointer<Float>, _ height: Int, _ width: Int, _ tiles: TileGrid,
                                _ top: Int, _ left: Int, _ target: UnsafeMutablePointer<Float>, _ plane: Int) {
        let cin = inChannels
        nonisolated(unsafe) let (source, target) = (source, target)
        ComputeThreads.parallelFor(tiles.high, minimumPerThread: max(1, 16384 / max(1, tiles.wide * cin * 16))) { tileRows in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: cin) { zeroBuffer in
                let zeros = zeroBuffer.baseAddress!
                zeros.initialize(repeating: 0, count: cin)
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 16) { pixelBuffer in
                    let pixels = pixelBuffer.baseAddress!
                    for ty in tileRows {
                        for tx in 0..<tiles.wide {
                            for i in 0..<4 {
                                let y = 2 * ty + i - top
                                for j in 0..<4 {
                                    let x = 2 * tx + j - left
                                    pixels[i * 4 + j] = y >= 0 && y < height && x >= 0 && x < width
                                        ? source + (y * width + x) * cin : UnsafePointer(zeros)
                                }
                            }
                            let out = target + (ty * tiles.wide + tx) * cin
                            var c = 0
                            while c < cin {
                                let lanes = min(8, cin - c)
                                @inline(__always) func d(_ i: Int, _ j: Int) -> SIMD8<Float> { Self.load(pixels[i * 4 + j] + c, lanes) }
                                // Bᵀ d: rows (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃), column by column.
                                @inline(__always) func column(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                                    let (d0, d1, d2, d3) = (d(0, j), d(1, j), d(2, j), d(3, j))
                                    return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                                }
                                let (k0, k1, k2, k3) = (column(0), column(1), column(2), column(3))
                                // (Bᵀ d) B: the same across each row's columns, giving V's row i.
                                @inline(__always) func storeRow(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>,
                                                                _ r3: SIMD8<Float>, _ i: Int) {
                                    Self.store(r0 - r2, out + (i * 4) * plane + c, lanes)
                                    Self.store(r1 + r2, out + (i * 4 + 1) * plane + c, lanes)
                                    Self.store(r2 - r1, out + (i * 4 + 2) * plane + c, lanes)
                                    Self.store(r1 - r3, out + (i * 4 + 3) * plane + c, lanes)
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
        }
    }

    /// Y = Aᵀ M A for every tile, eight output channels at a time, plus bias and residual,
    /// then the activation; the odd last row or column of an odd-sized output is dropped.
    private func transformOutput(_ products: UnsafePointer<Float>, _ plane: Int, _ tiles: TileGrid,
                                 _ oh: Int, _ ow: Int, _ bias: UnsafePointer<Float>, _ residual: UnsafePointer<Float>?,
                                 _ activation: GEMM.Epilogue.Activation, _ output: UnsafeMutablePointer<Float>) {
        let cout = outChannels
        nonisolated(unsafe) let (products, bias, residual, output) = (products, bias, residual, output)
        ComputeThreads.parallelFor(tiles.high, minimumPerThread: max(1, 16384 / max(1, tiles.wide * cout * 16))) { tileRows in
            for ty in tileRows {
                for tx in 0..<tiles.wide {
                    let m = products + (ty * tiles.wide + tx) * cout
                    let (y, x) = (2 * ty, 2 * tx)
                    var o = 0
                    while o < cout {
                        let lanes = min(8, cout - o)
                        @inline(__always) func load(_ xi: Int) -> SIMD8<Float> { Self.load(m + xi * plane + o, lanes) }
                        // Aᵀ M: rows (m₀ + m₁ + m₂, m₁ − m₂ − m₃), for each column j.
                        @inline(__always) func column(_ j: Int) -> (upper: SIMD8<Float>, lower: SIMD8<Float>) {
                            let (m0, m1, m2, m3) = (load(j), load(4 + j), load(8 + j), load(12 + j))
                            return (m0 + m1 + m2, m1 - m2 - m3)
                        }
                        let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
                        let offset = Self.load(bias + o, lanes)
                        @inline(__always) func write(_ value: SIMD8<Float>, _ dy: Int, _ dx: Int) {
                            guard y + dy < oh, x + dx < ow else { return }
                            let pixel = ((y + dy) * ow + x + dx) * cout + o
                            var value = value + offset
                            if let residual { value += Self.load(residual + pixel, lanes) }
                            Self.store(activation.apply(value), output + pixel, lanes)
                        }
                        // (Aᵀ M) A: the same across the columns.
                        write(c0.upper + c1.upper + c2.upper, 0, 0)
                        write(c1.upper - c2.upper - c3.upper, 0, 1)
                        write(c0.lower + c1.lower + c2.lower, 1, 0)
                        write(c1.lower - c2.lower - c3.lower, 1, 1)
                        o += lanes
                    }
                }
            }
        }
    }
}
