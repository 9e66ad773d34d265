import Foundation

/// Winograd's minimal filtering for dense 3×3 stride-1 convolutions on channels-last maps:
/// F(4×4, 3×3) on narrow layers, F(2×2, 3×3) on the others (`WinogradTile`).
///
/// A direct convolution spends 9 multiply-adds per input channel on each output pixel.
/// Winograd's transform computes an m×m block of outputs from an (m+2)×(m+2) block of
/// inputs: each input tile is transformed (V = Bᵀ d B), each filter once at load time
/// (U = G g Gᵀ), the (m+2)² transformed positions are as many independent matrix products
/// over channels (M_ξ = V_ξ · U_ξ, tiles × in times in × out), and each output tile comes
/// back as Y = Aᵀ M A. That is 2.25 (m = 2) or 4 (m = 4) times fewer multiplications, all of
/// them in `PackedGEMM`. Channels-last, both transforms work on eight channels of one tile
/// at a time, and V_ξ's rows (tiles) are the product's rows as they are.
struct WinogradConvolution: Sendable {
    let outChannels: Int
    let inChannels: Int
    let tile: WinogradTile
    /// U: one `in × out` matrix per transformed position ξ, packed for the products.
    let transformedWeight: [PackedWeights]

    /// The tile for a layer: F(4×4) up to 128 input channels, where its larger rounding
    /// error stays within a few parts in a million of the outputs (a ResNet's 56×56 and 28×28
    /// stages: 1.8 times fewer products than F(2×2) there); F(2×2) on wider layers.
    static func tile(inChannels: Int) -> WinogradTile { inChannels <= 128 ? .four : .two }

    /// `weight`: `[out, in·3·3]`, PyTorch's filter order.
    init(weight: Tensor, outChannels: Int, inChannels: Int, tile: WinogradTile? = nil,
         microkernel: MicrokernelShape = .preferred) {
        precondition(weight.count == outChannels * inChannels * 9)
        self.outChannels = outChannels
        self.inChannels = inChannels
        let tile = tile ?? Self.tile(inChannels: inChannels)
        self.tile = tile
        let plane = outChannels * inChannels, positions = tile.positions
        // transformed[ξ][c][o]
        let transformed = [Float](unsafeUninitializedCapacity: positions * plane) { transformed, initialized in
            weight.scalars.withUnsafeBufferPointer {
                tile.transformFilters($0.baseAddress!, outChannels: outChannels, inChannels: inChannels, into: transformed.baseAddress!)
            }
            initialized = positions * plane
        }
        transformedWeight = transformed.withUnsafeBufferPointer { u in
            (0..<positions).map {
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
        let tiles = TileGrid(outputHeight: oh, outputWidth: ow, side: tile.outputSide)
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
    /// V and M (a row per tile and position) are still in L2, a block per thread at a time:
    /// with F(2×2), the 56×56 layers of a ResNet (64 channels) otherwise wrote and reread
    /// 13 MB per convolution. Larger filters (the deep layers, few tiles; F(4×4)'s at 64
    /// channels, 590 KB, ran as fast either way) are read once for all tiles instead.
    static let fusedWeightBytes = 512 * 1024
    /// Bytes of V and M for one block of tiles.
    static let blockBytes = 384 * 1024

    private func run(_ map: Map) {
        let (cin, cout, positions) = (inChannels, outChannels, tile.positions)
        let count = map.tiles.count
        if positions * cin * cout * 4 <= Self.fusedWeightBytes {
            let perTile = positions * (cin + cout) * 4
            // A multiple of 24 tiles: whole row groups of either kernel (6 or 8 rows).
            let blockTiles = max(24, Self.blockBytes / perTile / 24 * 24)
            let blocks = (count + blockTiles - 1) / blockTiles
            ComputeThreads.parallelFor(blocks, chunksPerThread: 4) { range in
                let inputPlane = Self.planeStride(blockTiles * cin), productPlane = Self.planeStride(blockTiles * cout)
                var v = [Float](unsafeUninitializedCapacity: positions * inputPlane) { _, n in n = positions * inputPlane }
                var m = [Float](unsafeUninitializedCapacity: positions * productPlane) { _, n in n = positions * productPlane }
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
            var v = [Float](unsafeUninitializedCapacity: positions * inputPlane) { _, n in n = positions * inputPlane }
            var m = [Float](unsafeUninitializedCapacity: positions * productPlane) { _, n in n = positions * productPlane }
            v.withUnsafeMutableBufferPointer { vBuffer in
                m.withUnsafeMutableBufferPointer { mBuffer in
                    nonisolated(unsafe) let (v, m) = (vBuffer.baseAddress!, mBuffer.baseAddress!)
                    let tileRows = map.tiles.wide
                    ComputeThreads.parallelFor(map.tiles.high, minimumPerThread: max(1, 16384 / max(1, tileRows * cin * positions)),
                                               chunksPerThread: 4) { rows in
                        transformInput(map, rows.lowerBound * tileRows..<rows.upperBound * tileRows, v + rows.lowerBound * tileRows * cin, inputPlane)
                    }
                    multiply(v, inputPlane, count, m, productPlane, parallel: true)
                    ComputeThreads.parallelFor(map.tiles.high, minimumPerThread: max(1, 16384 / max(1, tileRows * cout * positions)),
                                               chunksPerThread: 4) { rows in
                        transformOutput(map, rows.lowerBound * tileRows..<rows.upperBound * tileRows, m + rows.lowerBound * tileRows * cout, productPlane)
                    }
                }
            }
        }
    }

    /// M_ξ = V_ξ · U_ξ for every position over `tiles` rows; with `parallel`, one position
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
        let positions = tile.positions
        if parallel { ComputeThreads.parallelFor(positions, chunksPerThread: 8, products) } else { products(0..<positions) }
    }

    /// The m×m output tiles covering an output map.
    struct TileGrid {
        let side: Int
        let high: Int, wide: Int
        var count: Int { high * wide }

        init(outputHeight: Int, outputWidth: Int, side: Int) {
            self.side = side
            high = (outputHeight + side - 1) / side
            wide = (outputWidth + side - 1) / side
        }
    }

    /// Distance between the transformed planes: a little more than one plane, so that the
    /// rows each tile touches never sit a multiple of 4 KB apart (the L1 cache's sets
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
        let (step, side, four) = (tile.outputSide, tile.inputSide, tile == .four)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: cin) { zeroBuffer in
            let zeros = zeroBuffer.baseAddress!
            zeros.initialize(repeating: 0, count: cin)
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: side * side) { pixelBuffer in
                withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 36) { scratchBuffer in
                    let (pixels, scratch) = (pixelBuffer.baseAddress!, scratchBuffer.baseAddress!)
                    for tile in tiles {
                        let (ty, tx) = (tile / map.tiles.wide, tile % map.tiles.wide)
                        for i in 0..<side {
                            let y = step * ty + i - map.top
                            for j in 0..<side {
                                let x = step * tx + j - map.left
                                pixels[i * side + j] = y >= 0 && y < height && x >= 0 && x < width
                                    ? source + (y * width + x) * cin : UnsafePointer(zeros)
                            }
                        }
                        let out = target + (tile - tiles.lowerBound) * cin
                        var c = 0
                        while c < cin {
                            let lanes = min(8, cin - c)
                            if four {
                                WinogradTileTransforms.inputTile4(pixels, c, lanes, out, plane, scratch)
                            } else {
                                WinogradTileTransforms.inputTile2(pixels, c, lanes, out, plane)
                            }
                            c += lanes
                        }
                    }
                }
            }
        }
    }

    /// Y = Aᵀ M A for `tiles` (M's rows counted from the range's first tile), eight output
    /// channels at a time, plus bias and residual, then the activation; the part of a last
    /// tile past the map's edge is dropped.
    ///
    /// None, ReLU and ReLU6 are applied as a clamp, as the product kernels do; GELU's
    /// polynomial in the same per-pixel switch made the output transform 0.5 ms of a
    /// 56×56×64 convolution's 1.85 ms (0.25 ms without it). `OutputWriter` keeps the write
    /// small enough to inline.
    private func transformOutput(_ map: Map, _ tiles: Range<Int>, _ products: UnsafePointer<Float>, _ plane: Int) {
        let clamp = map.activation.clampBounds ?? (-.infinity, .infinity)
        switch tile {
        case .two: transformOutput2(map, tiles, products, plane, clamp: clamp)
        case .four: transformOutput4(map, tiles, products, plane, clamp: clamp)
        }
        if map.activation.clampBounds == nil { applyActivation(map, tiles) }
    }

    /// Adds bias and residual to an output vector, clamps it and writes it.
    struct OutputWriter {
        typealias Lanes = SIMD8<Float>
        let bias: Lanes, lower: Lanes, upper: Lanes
        let residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
        let lanes: Int

        /// For output channels `o..<o + lanes` of `map`.
        @inline(__always)
        init(_ map: Map, _ o: Int, _ lanes: Int, clamp: (lower: Float, upper: Float)) {
            bias = VectorMath.load(map.bias + o, lanes: lanes)
            (lower, upper) = (Lanes(repeating: clamp.lower), Lanes(repeating: clamp.upper))
            (residual, output, self.lanes) = (map.residual, map.output, lanes)
        }

        /// Eight channels in registers; a last group of fewer (a layer whose width is not a
        /// multiple of eight) out of line, so that the common case stays small enough to inline.
        @inline(__always)
        func write(_ value: Lanes, at offset: Int) {
            guard lanes == Lanes.scalarCount else { return writePartial(value, at: offset) }
            var value = value + bias
            if let residual { value += UnsafeRawPointer(residual + offset).loadUnaligned(as: Lanes.self) }
            value = value.replacing(with: lower, where: value .< lower).replacing(with: upper, where: value .> upper)
            UnsafeMutableRawPointer(output + offset).storeBytes(of: value, as: Lanes.self)
        }

        @inline(never)
        func writePartial(_ value: Lanes, at offset: Int) {
            var value = value + bias
            if let residual { value += VectorMath.load(residual + offset, lanes: lanes) }
            value = value.replacing(with: lower, where: value .< lower).replacing(with: upper, where: value .> upper)
            VectorMath.store(value, to: output + offset, lanes: lanes)
        }
    }

    private func transformOutput2(_ map: Map, _ tiles: Range<Int>, _ products: UnsafePointer<Float>, _ plane: Int,
                                  clamp: (lower: Float, upper: Float)) {
        typealias Lanes = SIMD8<Float>
        let cout = outChannels, (oh, ow) = (map.outputHeight, map.outputWidth)
        for tile in tiles {
            let m = products + (tile - tiles.lowerBound) * cout
            let (y, x) = (2 * (tile / map.tiles.wide), 2 * (tile % map.tiles.wide))
            let (right, below) = (x + 1 < ow, y + 1 < oh)
            let pixel = (y * ow + x) * cout
            var o = 0
            while o < cout {
                let lanes = min(8, cout - o)
                @inline(__always) func load(_ xi: Int) -> Lanes { VectorMath.load(m + xi * plane + o, lanes: lanes) }
                // Aᵀ M, column by column; then the same across the columns.
                let c0 = WinogradTileTransforms.output4(load(0), load(4), load(8), load(12))
                let c1 = WinogradTileTransforms.output4(load(1), load(5), load(9), load(13))
                let c2 = WinogradTileTransforms.output4(load(2), load(6), load(10), load(14))
                let c3 = WinogradTileTransforms.output4(load(3), load(7), load(11), load(15))
                let upper = WinogradTileTransforms.output4(c0.0, c1.0, c2.0, c3.0)
                let lower = WinogradTileTransforms.output4(c0.1, c1.1, c2.1, c3.1)
                let out = OutputWriter(map, o, lanes, clamp: clamp)
                out.write(upper.0, at: pixel + o)
                if right { out.write(upper.1, at: pixel + cout + o) }
                if below {
                    out.write(lower.0, at: pixel + ow * cout + o)
                    if right { out.write(lower.1, at: pixel + (ow + 1) * cout + o) }
                }
                o += lanes
            }
        }
    }

    private func transformOutput4(_ map: Map, _ tiles: Range<Int>, _ products: UnsafePointer<Float>, _ plane: Int,
                                  clamp: (lower: Float, upper: Float)) {
        typealias Lanes = SIMD8<Float>
        let cout = outChannels, (oh, ow) = (map.outputHeight, map.outputWidth)
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 24) { scratchBuffer in
            let scratch = scratchBuffer.baseAddress!
            for tile in tiles {
                let m = products + (tile - tiles.lowerBound) * cout
                let (y, x) = (4 * (tile / map.tiles.wide), 4 * (tile % map.tiles.wide))
                let (rows, columns) = (min(4, oh - y), min(4, ow - x))
                var o = 0
                while o < cout {
                    let lanes = min(8, cout - o)
                    @inline(__always) func load(_ xi: Int) -> Lanes { VectorMath.load(m + xi * plane + o, lanes: lanes) }
                    // Aᵀ M, column by column: scratch[i·6 + j] is row i of column j.
                    for j in 0..<6 {
                        (scratch[j], scratch[6 + j], scratch[12 + j], scratch[18 + j]) =
                            WinogradTileTransforms.output6(load(j), load(6 + j), load(12 + j), load(18 + j), load(24 + j), load(30 + j))
                    }
                    let out = OutputWriter(map, o, lanes, clamp: clamp)
                    // (Aᵀ M) A: the same across each row, giving output row y + i.
                    for i in 0..<rows {
                        let row = scratch + i * 6
                        let values = WinogradTileTransforms.output6(row[0], row[1], row[2], row[3], row[4], row[5])
                        let pixel = ((y + i) * ow + x) * cout + o
                        out.write(values.0, at: pixel)
                        if columns > 1 { out.write(values.1, at: pixel + cout) }
                        if columns > 2 { out.write(values.2, at: pixel + 2 * cout) }
                        if columns > 3 { out.write(values.3, at: pixel + 3 * cout) }
                    }
                    o += lanes
                }
            }
        }
    }

    /// GELU (the one activation not applied as a clamp) over the output pixels of `tiles`,
    /// after `transformOutput` wrote them unclamped.
    private func applyActivation(_ map: Map, _ tiles: Range<Int>) {
        let cout = outChannels, (oh, ow) = (map.outputHeight, map.outputWidth), side = map.tiles.side
        for tile in tiles {
            let (y, x) = (side * (tile / map.tiles.wide), side * (tile % map.tiles.wide))
            for dy in 0..<min(side, oh - y) {
                let row = map.output + ((y + dy) * ow + x) * cout
                VectorMath.gelu(UnsafeMutableBufferPointer(start: row, count: min(side, ow - x) * cout), parallel: false)
            }
        }
    }
}
