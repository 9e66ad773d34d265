/// How many colours the terminal shows.
public enum ColorMode: String, CaseIterable, Sendable {
    case truecolor
    case palette256 = "256"
    case palette16 = "16"
    case none

    /// The design's order: `--color`, then `NO_COLOR` (no colour), then `COLORTERM`
    /// (`truecolor` / `24bit`), then the terminfo colour count.
    public static func detect(flag: ColorMode?, environment: [String: String], terminfoColors: Int?) -> ColorMode {
        if let flag { return flag }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
        if let colorterm = environment["COLORTERM"]?.lowercased(), colorterm == "truecolor" || colorterm == "24bit" {
            return .truecolor
        }
        switch terminfoColors ?? 0 {
        case 16_777_216...: return .truecolor
        case 256...: return .palette256
        case 8...: return .palette16
        default: return .none
        }
    }
}

/// How a cell shows pixels: half blocks (1×2 sub-pixels), quadrants (2×2), sextants (2×3,
/// Unicode 13's Legacy Computing block), each with the glyph and two colours fitted to the
/// cell; or one ASCII character per cell.
public enum SymbolSet: String, CaseIterable, Sendable {
    case half, quad, sextant, ascii

    /// Without `--symbols`: sextants in 24-bit colour on a UTF-8 locale, half blocks
    /// otherwise (the palettes make fitted colours coarse, and a font without the
    /// Legacy Computing block is likelier there). A font that lacks them: `--symbols half`.
    public static func automatic(mode: ColorMode, environment: [String: String]) -> SymbolSet {
        let locale = environment["LC_ALL"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["LC_CTYPE"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["LANG"] ?? ""
        let utf8 = locale.uppercased().replacingOccurrences(of: "-", with: "").contains("UTF8")
        return mode == .truecolor && utf8 ? .sextant : .half
    }
}
