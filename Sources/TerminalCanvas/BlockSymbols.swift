/// Quadrant (2×2) and sextant (2×3) block symbols, and the fit of one cell's pixels to the
/// glyph and two colours that reproduce them best.
///
/// A cell shows one foreground and one background colour; a glyph says which of its
/// sub-pixels take the foreground. For a given split of the pixels into two groups the
/// colours that minimise the squared error are the groups' means. Every split is tried (a split and its complement
/// are the same cell with the colours swapped, so half of them), with the colours as the
/// terminal will get them (rounded to 8 bits): the exact minimum over the glyph set, where
/// chafa approximates it with a candidate search.
public enum BlockSymbols {
    /// Sub-pixels across and down a cell.
    public static func layout(_ symbols: SymbolSet) -> (across: Int, down: Int) {
        switch symbols {
        case .half: return (1, 2)
        case .quad: return (2, 2)
        case .sextant: return (2, 3)
        case .ascii: return (1, 1)
        }
    }

    /// The glyph whose set bits are foreground: bit (row·2 + column), row-major from the
    /// top left, in a cell two sub-pixels across and `down` rows (2: quadrants, 3: sextants).
    /// Half blocks need no fit and no table: the rasterizer draws them as ▀.
    public static func glyph(mask: Int, down: Int) -> Character {
        if down == 2 { return quadrants[mask & 15] }
        return sextant(mask & 63)
    }

    /// Quadrants by mask (bit 0 top left, 1 top right, 2 bottom left, 3 bottom right).
    static let quadrants: [Character] = [" ", "▘", "▝", "▀", "▖", "▌", "▞", "▛", "▗", "▚", "▐", "▜", "▄", "▙", "▟", "█"]

    /// Unicode 13's sextants U+1FB00–U+1FB3B number the 60 patterns that older blocks do not
    /// already spell (empty, full, left half, right half) in mask order.
    static func sextant(_ mask: Int) -> Character {
        switch mask {
        case 0: return " "
        case 63: return "█"
        case 21: return "▌"
        case 42: return "▐"
        default:
            let index = mask - 1 - (mask > 21 ? 1 : 0) - (mask > 42 ? 1 : 0)
            return Character(Unicode.Scalar(0x1FB00 + index)!)
        }
    }

    /// The best split of `pixels` (row-major within the cell): the foreground mask and the
    /// two colours (each group's mean, rounded to 8 bits), and the squared error they leave
    /// with those rounded colours, the error the terminal will show.
    public static func fit(_ pixels: [RGB]) -> (mask: Int, foreground: RGB, background: RGB, error: Double) {
        let n = pixels.count
        precondition(n >= 1 && n <= 8)
        // First the error with exact (unrounded) means, Σ‖p‖² − ‖Σ_F p‖²/|F| − ‖Σ_B p‖²/|B|,
        // for every split, from integer sums. Rounding the two means moves each channel of
        // each pixel's colour by at most ½, adding at most ¾·n to the error, so only splits
        // within that of the best exact one can be best once rounded: those are evaluated
        // with the rounded colours, the others never need to be.
        var total = (0, 0, 0), squares = 0
        for p in pixels {
            let (r, g, b) = (Int(p.r), Int(p.g), Int(p.b))
            total.0 += r; total.1 += g; total.2 += b
            squares += r * r + g * g + b * b
        }
        let masks = 1 << (n - 1)      // the last pixel in the background: complements are the same fit
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: masks) { exact in
            var bestExact = Double.infinity
            for mask in 0..<masks {
                var sum = (0, 0, 0), count = 0
                var bits = mask, i = 0
                while bits != 0 {
                    if bits & 1 != 0 {
                        sum.0 += Int(pixels[i].r); sum.1 += Int(pixels[i].g); sum.2 += Int(pixels[i].b)
                        count += 1
                    }
                    bits >>= 1
                    i += 1
                }
                let rest = (total.0 - sum.0, total.1 - sum.1, total.2 - sum.2)
                var error = Double(squares) - Double(rest.0 * rest.0 + rest.1 * rest.1 + rest.2 * rest.2) / Double(n - count)
                if count > 0 { error -= Double(sum.0 * sum.0 + sum.1 * sum.1 + sum.2 * sum.2) / Double(count) }
                exact[mask] = error
                bestExact = min(bestExact, error)
            }
            let bound = bestExact + 0.75 * Double(n) + 1e-6
            var best = (mask: 0, foreground: RGB(0, 0, 0), background: RGB(0, 0, 0), error: Double.infinity)
            for mask in 0..<masks where exact[mask] <= bound {
                let foreground = mean(pixels, mask: mask, selected: true)
                let background = mean(pixels, mask: mask, selected: false)
                var error = 0.0
                for i in 0..<n {
                    error += squaredDistance(pixels[i], mask & (1 << i) != 0 ? foreground : background)
                }
                if error < best.error { best = (mask, foreground, background, error) }
            }
            return best
        }
    }

    static func mean(_ pixels: [RGB], mask: Int, selected: Bool) -> RGB {
        var sum = (0, 0, 0), count = 0
        for i in pixels.indices where (mask & (1 << i) != 0) == selected {
            sum.0 += Int(pixels[i].r); sum.1 += Int(pixels[i].g); sum.2 += Int(pixels[i].b)
            count += 1
        }
        guard count > 0 else { return RGB(0, 0, 0) }
        func channel(_ v: Int) -> UInt8 { UInt8((2 * v + count) / (2 * count)) }   // rounded, halves up
        return RGB(channel(sum.0), channel(sum.1), channel(sum.2))
    }

    static func squaredDistance(_ a: RGB, _ b: RGB) -> Double {
        let (r, g, bl) = (Double(a.r) - Double(b.r), Double(a.g) - Double(b.g), Double(a.b) - Double(b.b))
        return r * r + g * g + bl * bl
    }
}
