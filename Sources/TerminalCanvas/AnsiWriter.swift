/// Cells as text with ANSI SGR escapes, for `render` and for pasting into issues.
public enum AnsiWriter {
    public static func text(_ grid: CellGrid, mode: ColorMode) -> String {
        var output = ""
        for row in 0..<grid.height {
            var current: (TerminalColor, TerminalColor, Bool, Bool)?
            for column in 0..<grid.width {
                let cell = grid[row, column]
                if mode != .none {
                    let state = (cell.foreground, cell.background, cell.bold, cell.reverse)
                    if current == nil || current! != state {
                        output += sgr(cell, mode: mode)
                        current = state
                    }
                }
                output.append(cell.character)
            }
            if mode != .none { output += "\u{1B}[0m" }
            output += "\n"
        }
        return output
    }

    static func sgr(_ cell: Cell, mode: ColorMode) -> String {
        var codes = ["0"]
        if cell.bold { codes.append("1") }
        if cell.reverse { codes.append("7") }
        codes += color(cell.foreground, background: false)
        codes += color(cell.background, background: true)
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }

    static func color(_ color: TerminalColor, background: Bool) -> [String] {
        switch color {
        case .default: return []
        case .rgb(let c): return [background ? "48" : "38", "2", String(c.r), String(c.g), String(c.b)]
        case .indexed(let i) where i < 8: return [String((background ? 40 : 30) + Int(i))]
        case .indexed(let i) where i < 16: return [String((background ? 100 : 90) + Int(i) - 8)]
        case .indexed(let i): return [background ? "48" : "38", "5", String(i)]
        }
    }
}
