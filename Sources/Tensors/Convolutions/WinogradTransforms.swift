/// The two Winograd algorithms for 3×3 filters, F(2×2, 3×3) and F(4×4, 3×3): their
/// transform matrices, and the transforms of one tile eight channels at a time.
///
/// F(m×m, 3×3) computes an m×m block of outputs from an (m+2)×(m+2) block of inputs with
/// (m+2)² products instead of 9m²: 2.25 times fewer multiplications for m = 2, 4 times for
/// m = 4. The larger tile's transforms multiply by up to 8 and divide by up to 24, so its
/// results are a few float roundings further from the direct convolution; summed over
/// more channels that grows (measured against a double-precision direct convolution on
/// ReLU-like inputs with He-scaled filters: 3e-6 of the largest output at 64 channels, 7e-6
/// at 256, 1.4e-5 at 512; F(2×2): under 1e-6 at every width), which is why the larger tile
/// is kept to narrow layers (see `WinogradConvolution.tile(inChannels:)`).
/// The matrices are the usual ones (Lavin and Gray, 2016), interpolating at 0, ±1, ∞ and,
/// for m = 4, ±2.
package enum WinogradTile: Sendable {
    case two, four

    /// Output tile side m.
    var outputSide: Int { self == .two ? 2 : 4 }
    /// Input tile side m + 2.
    var inputSide: Int { outputSide + 2 }
    /// Transformed positions per tile, (m + 2)²: one matrix product each.
    var positions: Int { inputSide * inputSide }

    /// G, `inputSide × 3` row-major: U = G g Gᵀ transforms a 3×3 filter g.
    var filterMatrix: [Double] {
        switch self {
        case .two: Self.filterMatrix2
        case .four: Self.filterMatrix4
        }
    }

    private static let filterMatrix2: [Double] = [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
    private static let filterMatrix4: [Double] = [1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                                                  1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1]

    /// U = G g Gᵀ for every filter g of `weights` (PyTorch's `[out, in, 3, 3]`), in double and
    /// rounded once to float: `target[ξ][c][o]`, positions ξ row-major.
    func transformFilters(_ weights: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                          into target: UnsafeMutablePointer<Float>) {
        let side = inputSide, plane = outChannels * inChannels
        filterMatrix.withUnsafeBufferPointer { matrix in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 18) { left in
                // Output channels innermost: each position's writes then run along memory.
                for c in 0..<inChannels {
                    for o in 0..<outChannels {
                        let g = weights + (o * inChannels + c) * 9, at = target + c * outChannels + o
                        // G g: side × 3.
                        for i in 0..<side {
                            for j in 0..<3 {
                                left[i * 3 + j] = matrix[i * 3] * Double(g[j]) + matrix[i * 3 + 1] * Double(g[3 + j])
                                    + matrix[i * 3 + 2] * Double(g[6 + j])
                            }
                        }
                        // (G g) Gᵀ: side × side.
                        for i in 0..<side {
                            for j in 0..<side {
                                at[(i * side + j) * plane] = Float(left[i * 3] * matrix[j * 3] + left[i * 3 + 1] * matrix[j * 3 + 1]
                                                                   + left[i * 3 + 2] * matrix[j * 3 + 2])
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Transforms of one tile, eight channels at a time.
enum WinogradTileTransforms {
    typealias Lanes = SIMD8<Float>

    /// Bᵀ x for F(2×2): (x₀ − x₂, x₁ + x₂, x₂ − x₁, x₁ − x₃).
    @inline(__always)
    static func input4(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes) -> (Lanes, Lanes, Lanes, Lanes) {
        (x0 - x2, x1 + x2, x2 - x1, x1 - x3)
    }

    /// Bᵀ x for F(4×4): Bᵀ's rows are (4, 0, −5, 0, 1, 0), (0, −4, −4, 1, 1, 0),
    /// (0, 4, −4, −1, 1, 0), (0, −2, −1, 2, 1, 0), (0, 2, −1, −2, 1, 0), (0, 4, 0, −5, 0, 1).
    @inline(__always)
    static func input6(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes, _ x4: Lanes, _ x5: Lanes)
        -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
        let (four, five, two) = (Lanes(repeating: 4), Lanes(repeating: 5), Lanes(repeating: 2))
        let (sum12, difference12) = (x1 + x2, x1 - x2)
        let (sum34, difference13) = (x3 + x4, x3 - x1)
        let base = x4 - x2
        return ((x4 - five * x2).addingProduct(four, x0),
                sum34 - four * sum12,
                (x4 - x3).addingProduct(four, difference12),
                base.addingProduct(two, difference13),
                base - two * difference13,
                (x5 - five * x3).addingProduct(four, x1))
    }

    /// Aᵀ x for F(2×2): (x₀ + x₁ + x₂, x₁ − x₂ − x₃).
    @inline(__always)
    static func output4(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes) -> (Lanes, Lanes) {
        (x0 + x1 + x2, x1 - x2 - x3)
    }

    /// Aᵀ x for F(4×4): Aᵀ's rows are (1, 1, 1, 1, 1, 0), (0, 1, −1, 2, −2, 0),
    /// (0, 1, 1, 4, 4, 0), (0, 1, −1, 8, −8, 1).
    @inline(__always)
    static func output6(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes, _ x4: Lanes, _ x5: Lanes)
        -> (Lanes, Lanes, Lanes, Lanes) {
        let (sum12, difference12, sum34, difference34) = (x1 + x2, x1 - x2, x3 + x4, x3 - x4)
        return (x0 + sum12 + sum34,
                difference12.addingProduct(Lanes(repeating: 2), difference34),
                sum12.addingProduct(Lanes(repeating: 4), sum34),
                (difference12 + x5).addingProduct(Lanes(repeating: 8), difference34))
    }

    /// V = Bᵀ d B of one F(2×2) tile for channels `c..<c + lanes`: `pixels` are the 4×4
    /// input pixels (row-major), V's position ξ goes to `out + ξ·plane`.
    @inline(__always)
    static func inputTile2(_ pixels: UnsafePointer<UnsafePointer<Float>>, _ c: Int, _ lanes: Int,
                           _ out: UnsafeMutablePointer<Float>, _ plane: Int) {
        @inline(__always) func d(_ i: Int, _ j: Int) -> Lanes { VectorMath.load(pixels[i * 4 + j] + c, lanes: lanes) }
        // Bᵀ d, column by column; then the same across each row.
        let k0 = input4(d(0, 0), d(1, 0), d(2, 0), d(3, 0)), k1 = input4(d(0, 1), d(1, 1), d(2, 1), d(3, 1))
        let k2 = input4(d(0, 2), d(1, 2), d(2, 2), d(3, 2)), k3 = input4(d(0, 3), d(1, 3), d(2, 3), d(3, 3))
        @inline(__always) func storeRow(_ row: (Lanes, Lanes, Lanes, Lanes), _ i: Int) {
            let v = input4(row.0, row.1, row.2, row.3)
            VectorMath.store(v.0, to: out + (i * 4) * plane + c, lanes: lanes)
            VectorMath.store(v.1, to: out + (i * 4 + 1) * plane + c, lanes: lanes)
            VectorMath.store(v.2, to: out + (i * 4 + 2) * plane + c, lanes: lanes)
            VectorMath.store(v.3, to: out + (i * 4 + 3) * plane + c, lanes: lanes)
        }
        storeRow((k0.0, k1.0, k2.0, k3.0), 0)
        storeRow((k0.1, k1.1, k2.1, k3.1), 1)
        storeRow((k0.2, k1.2, k2.2, k3.2), 2)
        storeRow((k0.3, k1.3, k2.3, k3.3), 3)
    }

    /// V = Bᵀ d B of one F(4×4) tile (6×6 input pixels), as `inputTile2`. The column pass
    /// goes through `scratch` (36 vectors): more than the registers hold.
    @inline(__always)
    static func inputTile4(_ pixels: UnsafePointer<UnsafePointer<Float>>, _ c: Int, _ lanes: Int,
                           _ out: UnsafeMutablePointer<Float>, _ plane: Int, _ scratch: UnsafeMutablePointer<Lanes>) {
        @inline(__always) func d(_ i: Int, _ j: Int) -> Lanes { VectorMath.load(pixels[i * 6 + j] + c, lanes: lanes) }
        for j in 0..<6 {
            let t = input6(d(0, j), d(1, j), d(2, j), d(3, j), d(4, j), d(5, j))
            (scratch[j], scratch[6 + j], scratch[12 + j], scratch[18 + j], scratch[24 + j], scratch[30 + j]) = t
        }
        for i in 0..<6 {
            let row = scratch + i * 6
            let v = input6(row[0], row[1], row[2], row[3], row[4], row[5])
            let target = out + (i * 6) * plane + c
            VectorMath.store(v.0, to: target, lanes: lanes)
            VectorMath.store(v.1, to: target + plane, lanes: lanes)
            VectorMath.store(v.2, to: target + 2 * plane, lanes: lanes)
            VectorMath.store(v.3, to: target + 3 * plane, lanes: lanes)
            VectorMath.store(v.4, to: target + 4 * plane, lanes: lanes)
            VectorMath.store(v.5, to: target + 5 * plane, lanes: lanes)
        }
    }
}
