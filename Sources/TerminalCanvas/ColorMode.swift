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

/// Half blocks (two square pixels per cell) or one ASCII character per cell.
public enum SymbolSet: String, CaseIterable, Sendable {
    case half, ascii
}
