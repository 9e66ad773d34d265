import Testing
import TestSupport
@testable import TerminalCanvas

/// Quadrant and sextant cells: the glyphs against their Unicode names, and the fit against
/// a brute-force search over every glyph with the same colour fit (each group's mean).
struct BlockSymbolTests {
    /// Which sub-pixels a glyph covers, read from its Unicode name (row-major, 2 across).
    static func coverage(_ character: Character, down: Int) -> Int? {
        let scalar = character.unicodeScalars.first!
        guard let name = scalar.properties.name else { return character == " " ? 0 : nil }
        let full = (1 << (2 * down)) - 1
        switch name {
        case "FULL BLOCK": return full
        case "LEFT HALF BLOCK": return down == 2 ? 0b0101 : 0b010101
        case "RIGHT HALF BLOCK": return down == 2 ? 0b1010 : 0b101010
        case "UPPER HALF BLOCK": return 0b0011
        case "LOWER HALF BLOCK": return 0b1100
        case "SPACE": return 0
        default: break
        }
        if name.hasPrefix("BLOCK SEXTANT-") {
            return name.dropFirst("BLOCK SEXTANT-".count).reduce(0) { $0 | 1 << (Int(String($1))! - 1) }
        }
        if name.hasPrefix("QUADRANT ") {
            let places = ["UPPER LEFT": 1, "UPPER RIGHT": 2, "LOWER LEFT": 4, "LOWER RIGHT": 8]
            return name.dropFirst("QUADRANT ".count).components(separatedBy: " AND ").reduce(0) { $0 | places[$1]! }
        }
        return nil
    }

    @Test(arguments: [2, 3])
    func everyMaskHasTheGlyphItsNameSays(down: Int) {
        for mask in 0..<(1 << (2 * down)) {
            let glyph = BlockSymbols.glyph(mask: mask, down: down)
            #expect(Self.coverage(glyph, down: down) == mask, "mask \(mask): \(glyph)")
        }
    }

    /// The error of showing `pixels` with `mask` in front, each group in its mean colour
    /// computed in floating point and rounded to the nearest level.
    static func bruteForceError(_ pixels: [RGB], mask: Int) -> Double {
        func mean(_ selected: Bool) -> [Double] {
            let group = pixels.indices.filter { (mask >> $0) & 1 == (selected ? 1 : 0) }.map { pixels[$0] }
            guard !group.isEmpty else { return [0, 0, 0] }
            let n = Double(group.count)
            return [group.map { Double($0.r) }.reduce(0, +) / n, group.map { Double($0.g) }.reduce(0, +) / n,
                    group.map { Double($0.b) }.reduce(0, +) / n].map { ($0 + 1e-9).rounded() }
        }
        let (front, back) = (mean(true), mean(false))
        var error = 0.0
        for (i, p) in pixels.enumerated() {
            let c = (mask >> i) & 1 == 1 ? front : back
            error += pow2(Double(p.r) - c[0]) + pow2(Double(p.g) - c[1]) + pow2(Double(p.b) - c[2])
        }
        return error
    }

    static func pow2(_ v: Double) -> Double { v * v }

    @Test(arguments: [4, 6])
    func fitIsNoWorseThanBruteForce(pixelCount: Int) {
        var random = SeededGenerator(seed: UInt64(pixelCount))
        func level() -> UInt8 { UInt8(random.below(256)) }
        func colour() -> RGB { RGB(level(), level(), level()) }
        for trial in 0..<400 {
            // Half the blocks are two noisy colours (the usual case), half uniform noise.
            let (a, b) = (colour(), colour())
            var pixels: [RGB] = []
            for _ in 0..<pixelCount {
                if trial % 2 == 1 {
                    pixels.append(colour())
                } else {
                    let base = random.below(2) == 0 ? a : b
                    func jitter(_ v: UInt8) -> UInt8 { UInt8(clamping: Int(v) + random.below(13) - 6) }
                    pixels.append(RGB(jitter(base.r), jitter(base.g), jitter(base.b)))
                }
            }
            let fit = BlockSymbols.fit(pixels)
            let best = (0..<(1 << pixelCount)).map { Self.bruteForceError(pixels, mask: $0) }.min()!
            let got = Self.bruteForceError(pixels, mask: fit.mask)
            #expect(got <= best + 1e-6, "trial \(trial): \(got) > \(best)")
            #expect(abs(fit.error - got) <= 1e-6, "trial \(trial): reported \(fit.error), actual \(got)")
            // The colours handed out are those means.
            let shown = pixels.indices.map { (fit.mask >> $0) & 1 == 1 ? fit.foreground : fit.background }
            let error = zip(pixels, shown).map { BlockSymbols.squaredDistance($0, $1) }.reduce(0, +)
            #expect(abs(error - got) <= 1e-6)
        }
    }

    /// A 4×6-pixel image of two colours in a sextant pattern comes back exactly: two cells,
    /// each with the glyph of its pattern and the two colours.
    @Test func sextantCellsReproduceATwoColourImage() {
        let (red, blue) = (RGB(220, 20, 30), RGB(10, 40, 200))
        let masks = [0b100110, 0b011001]
        var pixels = [RGB](repeating: red, count: 4 * 3)
        for cell in 0..<2 {
            for y in 0..<3 {
                for x in 0..<2 where (masks[cell] >> (y * 2 + x)) & 1 == 1 { pixels[y * 4 + cell * 2 + x] = blue }
            }
        }
        let grid = Rasterizer(mode: .truecolor, symbols: .sextant).cells(rgb: pixels, columns: 2, rows: 1)
        for cell in 0..<2 {
            let shown = grid[0, cell]
            let covered = Self.coverage(shown.character, down: 3)!
            // The glyph covers the blue pixels in front, or the red ones with the colours swapped.
            if shown.foreground == .rgb(blue) {
                #expect(covered == masks[cell] && shown.background == .rgb(red))
            } else {
                #expect(covered == 63 ^ masks[cell] && shown.foreground == .rgb(red) && shown.background == .rgb(blue))
            }
        }
    }

    @Test func automaticChoiceFollowsColourAndLocale() {
        #expect(SymbolSet.automatic(mode: .truecolor, environment: ["LANG": "en_US.UTF-8"]) == .sextant)
        #expect(SymbolSet.automatic(mode: .truecolor, environment: ["LC_ALL": "C.utf8"]) == .sextant)
        #expect(SymbolSet.automatic(mode: .truecolor, environment: ["LC_ALL": "C", "LANG": "en_US.UTF-8"]) == .half)
        #expect(SymbolSet.automatic(mode: .palette256, environment: ["LANG": "en_US.UTF-8"]) == .half)
        #expect(SymbolSet.automatic(mode: .truecolor, environment: [:]) == .half)
    }
}
