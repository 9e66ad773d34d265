import Tensors

/// Winograd's minimal filtering F(2×2, 3×3) for dense 3×3 stride-1 convolutions.
///
/// A direct (im2col) convolution spends 9 multiply-adds per input channel on each output
/// pixel. Winograd's transform computes a 2×2 block of outputs from a 4×4 block of inputs
/// with 16 products instead of 36: each 4×4 input tile is transformed (V = Bᵀ d B), each
/// filter once at load time (U = G g Gᵀ), the 16 transformed positions are 16 independent
/// matrix products over channels (M_ξ = U_ξ · V_ξ), and each output tile comes back as
/// Y = Aᵀ M A. That is 2.25 times fewer multiplications, all of them in `PackedGEMM`. The
/// transforms only add, subtract and halve, so the result stays within a few float
/// roundings of the direct convolution (F(4×4, 3×3) would save more but multiplies by up
/// to 8 and loses digits).
struct WinogradConvolution: Sendable {
    let outChannels: Int
    let inChannels: Int
    /// U: one `out × in` matrix per transformed position ξ, packed for the products.
    let transformedWeight: [PackedMatrix]

    /// `weight`: `[out, in·3·3]`, as `Convolution` keeps it.
    init(weight: Tensor, outChannels: Int, inChannels: Int) {
        precondition(weight.count == outChannels * inChannels * 9)
        self.outChannels = outChannels
        self.inChannels = inChannels
        let plane = outChannels * inChannels
        let transformed = [Float](unsafeUninitializedCapacity: 16 * plane) { transformed, initialized in
            weight.scalars.withUnsafeBufferPointer { filters in
                for pair in 0..<plane {                       // pair = o · in + c
                    let g = filters.baseAddress! + pair * 9
                    // G g: the 3 kernel rows become 4: g₀, (g₀+g₁+g₂)/2, (g₀−g₁+g₂)/2, g₂.
                    let (g0, g1, g2) = (SIMD4(g[0], g[1], g[2], 0), SIMD4(g[3], g[4], g[5], 0), SIMD4(g[6], g[7], g[8], 0))
                    // (G g) Gᵀ: the same on each of those rows' 3 columns.
                    func store(_ r: SIMD4<Float>, row i: Int) {
                        transformed[(i * 4) * plane + pair] = r[0]
                        transformed[(i * 4 + 1) * plane + pair] = (r[0] + r[1] + r[2]) / 2
                        transformed[(i * 4 + 2) * plane + pair] = (r[0] - r[1] + r[2]) / 2
                        transformed[(i * 4 + 3) * plane + pair] = r[2]
                    }
                    store(g0, row: 0)
                    store((g0 + g1 + g2) / 2, row: 1)
                    store((g0 - g1 + g2) / 2, row: 2)
                    store(g2, row: 3)
                }
            }
            initialized = 16 * plane
        }
        transformedWeight = transformed.withUnsafeBufferPointer { u in
            (0..<16).map { PackedMatrix(u.baseAddress! + $0 * plane, rows: outChannels, depth: inChannels) }
        }
    }

    /// `input`: `[in, height, width]`; `output`: `[out, oh, ow]` with the output pixel (y, x)
    /// reading input pixels (y − top + ky, x − left + kx). Bias, residual and activation are
    /// applied as each output tile is formed.
    func apply(_ input: [Float], height: Int, width: Int, outputHeight oh: Int, outputWidth ow: Int,
               top: Int, left: Int, bias: [Float], activation: GEMM.Epilogue.Activation,
               residual: [Float]?, output: inout [Float]) {
        let tiles = TileGrid(outputHeight: oh, outputWidth: ow)
        let (cin, cout) = (inChannels, outChannels)
        // V's planes hold their tiles as PackedGEMM's 16-column panels, so that the products
        // read them as they are.
        let inputPlane = Self.planeStride(tiles.panels * cin * 16), productPlane = Self.planeStride(cout * tiles.count)
        var transformedInput = [Float](unsafeUninitializedCapacity: 16 * inputPlane) { _, n in n = 16 * inputPlane }
        var products = [Float](unsafeUninitializedCapacity: 16 * productPlane) { _, n in n = 16 * productPlane }
        input.withUnsafeBufferPointer { source in
            transformedInput.withUnsafeMutableBufferPointer { target in
                transformInput(source.baseAddress!, height, width, tiles, top, left, target.baseAddress!, inputPlane)
            }
        }
        // The 16 products are independent: one per thread at a time, each on one core.
        transformedInput.withUnsafeBufferPointer { v in
            products.withUnsafeMutableBufferPointer { m in
                nonisolated(unsafe) let (v, m) = (v.baseAddress!, m.baseAddress!)
                ComputeThreads.parallelFor(16) { positions in
                    for xi in positions {
                        PackedGEMM.multiply(transformedWeight[xi], panels: v + xi * inputPlane, n: tiles.count,
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

    /// The 2×2 output tiles covering an output map, walked in groups of `lanes` along a row.
    struct TileGrid {
        static let lanes = 8
        let high: Int, wide: Int
        var count: Int { high * wide }
        /// Tiles per row rounded up to whole groups.
        var paddedWide: Int { (wide + Self.lanes - 1) / Self.lanes * Self.lanes }
        /// 16-tile panels of the transformed input, the last one padded with zeros.
        var panels: Int { (count + 15) / 16 }

        init(outputHeight: Int, outputWidth: Int) {
            high = (outputHeight + 1) / 2
            wide = (outputWidth + 1) / 2
        }
    }

    /// Distance between the 16 transformed planes: a little more than one plane, so that the
    /// 16 streams each tile touches never sit a multiple of 4 KB apart (on a 56×56 map with 64
    /// channels they did, and the L1 cache, whose sets repeat every 4 KB, thrashed: 3× slower).
    /// The slack also lets a group of 8 tiles at a plane's end be read as one vector.
    static func planeStride(_ count: Int) -> Int {
        var stride = (count + 15) / 16 * 16 + 16
        if stride % 1024 == 0 { stride += 16 }
        return stride
    }

    /// V = Bᵀ d B for every channel and tile, planes `plane` apart, each plane as 16-tile
    /// panels of `[in, 16]` (tile t of channel c at (t / 16)·in·16 + c·16 + t % 16).
    /// Each channel is first copied into a zero-bordered plane covering every tile group, so
    /// no tile needs a bounds test; 8 neighbouring tiles are transformed at once, their 4×4
    /// inputs read as two 16-wide rows split into even and odd columns.
    private func transformInput(_ source: UnsafePointer<Float>, _ height: Int, _ width: Int, _ tiles: TileGrid,
                                _ top: Int, _ left: Int, _ target: UnsafeMutablePointer<Float>, _ plane: Int) {
        typealias Lanes = SIMD8<Float>
        let cin = inChannels, lanes = TileGrid.lanes
        let paddedHigh = 2 * tiles.high + 2, paddedWide = 2 * tiles.paddedWide + 2
        // Input rows and columns that land inside the padded plane.
        let firstRow = max(0, -top), lastRow = max(firstRow, min(height, paddedHigh - top))
        let firstColumn = max(0, -left), lastColumn = max(firstColumn, min(width, paddedWide - left))
        nonisolated(unsafe) let (source, target) = (source, target)
        ComputeThreads.parallelFor(cin, minimumPerThread: max(1, 4096 / max(1, tiles.count))) { channels in
            var padded = [Float](repeating: 0, count: paddedHigh * paddedWide + 2 * lanes)
            padded.withUnsafeMutableBufferPointer { planeBuffer in
                let image = planeBuffer.baseAddress!
                for c in channels {
                    for y in firstRow..<lastRow {
                        (image + (y + top) * paddedWide + firstColumn + left)
                            .update(from: source + (c * height + y) * width + firstColumn, count: lastColumn - firstColumn)
                    }
                    let out = target + c * 16
                    let panelStride = cin * 16
                    for ty in 0..<tiles.high {
                        for tx in stride(from: 0, to: tiles.wide, by: lanes) {
                            // Row i of the 8 tiles' inputs, as its 4 columns (each one lane per tile).
                            @inline(__always) func columns(_ i: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                                let row = UnsafeRawPointer(image + (2 * ty + i) * paddedWide + 2 * tx)
                                let front = row.loadUnaligned(as: SIMD16<Float>.self)
                                let back = row.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
                                return (front.evenHalf, front.oddHalf, back.evenHalf, back.oddHalf)
                            }
                            let (d0, d1, d2, d3) = (columns(0), columns(1), columns(2), columns(3))
                            // Bᵀ d: rows (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃), column by column.
                            let t = ty * tiles.wide + tx, count = min(lanes, tiles.wide - tx)
                            let firstLane = t & 15, sameRow = count == lanes && firstLane <= 16 - lanes
                            @inline(__always) func store(_ value: Lanes, _ xi: Int) {
                                let planeStart = out + xi * plane
                                if sameRow {
                                    // All 8 tiles in one panel row: one vector.
                                    let destination = planeStart + (t >> 4) * panelStride + firstLane
                                    UnsafeMutableRawPointer(destination).storeBytes(of: value, as: Lanes.self)
                                } else {
                                    for lane in 0..<count {
                                        let tile = t + lane
                                        planeStart[(tile >> 4) * panelStride + (tile & 15)] = value[lane]
                                    }
                                }
                            }
                            // (Bᵀ d) B: the same on each row's columns, giving V's row i.
                            @inline(__always) func storeRow(_ r: (Lanes, Lanes, Lanes, Lanes), _ i: Int) {
                                store(r.0 - r.2, i * 4)
                                store(r.1 + r.2, i * 4 + 1)
                                store(r.2 - r.1, i * 4 + 2)
                                store(r.1 - r.3, i * 4 + 3)
                            }
                            storeRow((d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3), 0)
                            storeRow((d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3), 1)
                            storeRow((d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3), 2)
                            storeRow((d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3), 3)
                        }
                    }
                    // The last panel's columns past the last tile are multiplied too (and their
                    // results dropped): zeros, not whatever the memory held.
                    let tail = tiles.count % 16
                    if tail != 0 {
                        for xi in 0..<16 {
                            (out + xi * plane + (tiles.count / 16) * panelStride + tail).update(repeating: 0, count: 16 - tail)
                        }
                    }
                    // Clear what this channel wrote before the next one reuses the plane.
                    for y in firstRow..<lastRow {
                        (image + (y + top) * paddedWide + firstColumn + left).update(repeating: 0, count: lastColumn - firstColumn)
                    }
                }
            }
        }
    }

    /// Y = Aᵀ M A for every output channel and tile, plus bias and residual, then the
    /// activation; the odd last row or column of an odd-sized output is dropped. 8 tiles at
    /// a time: their 2 output rows are 16 contiguous pixels each.
    private func transformOutput(_ products: UnsafePointer<Float>, _ plane: Int, _ tiles: TileGrid,
                                 _ oh: Int, _ ow: Int, _ bias: UnsafePointer<Float>, _ residual: UnsafePointer<Float>?,
                                 _ activation: GEMM.Epilogue.Activation, _ output: UnsafeMutablePointer<Float>) {
        typealias Lanes = SIMD8<Float>
        let cout = outChannels, lanes = TileGrid.lanes
        nonisolated(unsafe) let (products, bias, residual, output) = (products, bias, residual, output)
        ComputeThreads.parallelFor(cout, minimumPerThread: max(1, 4096 / max(1, tiles.count))) { channels in
            for o in channels {
                let m = products + o * tiles.count
                let map = output + o * oh * ow
                let shortcut = residual.map { $0 + o * oh * ow }
                let offset = SIMD16<Float>(repeating: bias[o])
                for ty in 0..<tiles.high {
                    for tx in stride(from: 0, to: tiles.wide, by: lanes) {
                        let t = ty * tiles.wide + tx
                        @inline(__always) func load(_ xi: Int) -> Lanes {
                            UnsafeRawPointer(m + xi * plane + t).loadUnaligned(as: Lanes.self)
                        }
                        // Aᵀ M: rows (m₀ + m₁ + m₂, m₁ − m₂ − m₃), for each column j.
                        @inline(__always) func column(_ j: Int) -> (upper: Lanes, lower: Lanes) {
                            let (m0, m1, m2, m3) = (load(j), load(4 + j), load(8 + j), load(12 + j))
                            return (m0 + m1 + m2, m1 - m2 - m3)
                        }
                        let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
                        // (Aᵀ M) A: the same across the columns; pixels 2t and 2t+1 interleave.
                        @inline(__always) func outputRow(_ r0: Lanes, _ r1: Lanes, _ r2: Lanes, _ r3: Lanes) -> SIMD16<Float> {
                            var row = SIMD16<Float>()
                            row.evenHalf = r0 + r1 + r2
                            row.oddHalf = r1 - r2 - r3
                            return row + offset
                        }
                        let x = 2 * tx, count = min(2 * lanes, ow - x)
                        @inline(__always) func write(_ values: SIMD16<Float>, _ y: Int) {
                            var values = values
                            let destination = map + y * ow + x
                            let whole = count == 2 * lanes
                            if let shortcut {
                                if whole {
                                    values += UnsafeRawPointer(shortcut + y * ow + x).loadUnaligned(as: SIMD16<Float>.self)
                                } else {
                                    for i in 0..<count { values[i] += shortcut[y * ow + x + i] }
                                }
                            }
                            values = SIMD16(lowHalf: activation.apply(values.lowHalf), highHalf: activation.apply(values.highHalf))
                            if whole {
                                UnsafeMutableRawPointer(destination).storeBytes(of: values, as: SIMD16<Float>.self)
                            } else {
                                for i in 0..<count { destination[i] = values[i] }
                            }
                        }
                        write(outputRow(c0.upper, c1.upper, c2.upper, c3.upper), 2 * ty)
                        if 2 * ty + 1 < oh { write(outputRow(c0.lower, c1.lower, c2.lower, c3.lower), 2 * ty + 1) }
                    }
                }
            }
        }
    }
}
