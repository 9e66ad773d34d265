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
    /// top left, in a cell of `down` rows (2: quadrants, 3: sextants, 2 with one column: half).
    public static func glyph(mask: Int, across: Int, down: Int) -> Character {
        if across == 1 { return ["\u{20}", "▀", "▄", "█"][mask & 3] }
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
        var best = (mask: 0, foreground: RGB(0, 0, 0), background: RGB(0, 0, 0), error: Double.infinity)
        // Masks with the last pixel in the background; their complements are the same fit.
        for mask in 0..<(1 << (n - 1)) {
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
