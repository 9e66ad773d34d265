/// A terminal colour as it will be emitted.
public enum TerminalColor: Equatable, Hashable, Sendable {
    case `default`
    case rgb(RGB)
    /// An index into the 256-colour palette (0–15 are the 16 ANSI colours).
    case indexed(UInt8)
}

/// One character cell of a frame.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var foreground: TerminalColor
    public var background: TerminalColor
    public var bold: Bool
    public var reverse: Bool

    public init(_ character: Character = " ", foreground: TerminalColor = .default, background: TerminalColor = .default,
                bold: Bool = false, reverse: Bool = false) {
        self.character = character
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.reverse = reverse
    }

    public static let blank = Cell()
}

/// A grid of cells, row-major.
public struct CellGrid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = [Cell](repeating: fill, count: self.width * self.height)
    }

    public subscript(row: Int, column: Int) -> Cell {
        get { cells[row * width + column] }
        set { cells[row * width + column] = newValue }
    }

    /// Copies `other` with its top-left corner at (row, column), clipped to this grid.
    public mutating func place(_ other: CellGrid, row: Int, column: Int) {
        for r in 0..<other.height where row + r >= 0 && row + r < height {
            for c in 0..<other.width where column + c >= 0 && column + c < width {
                self[row + r, column + c] = other[r, c]
            }
        }
    }

    /// Writes text from (row, column), clipped; returns the column after the last character.
    @discardableResult
    public mutating func write(_ text: String, row: Int, column: Int, foreground: TerminalColor = .default,
                               background: TerminalColor = .default, bold: Bool = false, reverse: Bool = false) -> Int {
        guard row >= 0 && row < height else { return column }
        var c = column
        for character in text {
            if c >= width { break }
            if c >= 0 { self[row, c] = Cell(character, foreground: foreground, background: background, bold: bold, reverse: reverse) }
            c += 1
        }
        return c
    }

    /// The characters of one row, for tests and plain output.
    public func text(row: Int) -> String {
        String(cells[(row * width)..<((row + 1) * width)].map(\.character))
    }
}
