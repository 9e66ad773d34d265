import Imaging

/// Pixels to cells. Pure functions: the same pixels, mode and symbols always give the same
/// cells, so frames can be compared in tests without a terminal.
public struct Rasterizer: Sendable {
    public static let asciiRamp: [Character] = Array(" .:-=+*#%@")

    public let mode: ColorMode
    public let symbols: SymbolSet

    public init(mode: ColorMode, symbols: SymbolSet) {
        self.mode = mode
        self.symbols = symbols
    }

    /// Pixel rows per cell: half blocks stack two square pixels; without colour a half
    /// block cannot show two values, so every cell is one pixel drawn with the ramp.
    public var pixelsPerCell: Int { symbols == .half && mode != .none ? 2 : 1 }

    /// An RGB raster of `columns × rows·pixelsPerCell` pixels as cells.
    public func cells(rgb pixels: [RGB], columns: Int, rows: Int) -> CellGrid {
        precondition(pixels.count == columns * rows * pixelsPerCell)
        var grid = CellGrid(width: columns, height: rows)
        for row in 0..<rows {
            for column in 0..<columns {
                if pixelsPerCell == 2 {
                    let top = pixels[(2 * row) * columns + column], bottom = pixels[(2 * row + 1) * columns + column]
                    grid[row, column] = Cell("▀", foreground: color(top), background: color(bottom))
                } else {
                    let pixel = pixels[row * columns + column]
                    grid[row, column] = Cell(Self.rampCharacter(pixel.luma), foreground: mode == .none ? .default : color(pixel))
                }
            }
        }
        return grid
    }

    /// A scalar field in [0, 1] drawn with a colormap. In the palette modes the colours come
    /// from a lightness-ordered ramp, so that brighter always means more.
    public func cells(field values: [Float], columns: Int, rows: Int, colormap: Colormap) -> CellGrid {
        precondition(values.count == columns * rows * pixelsPerCell)
        let ramp: [TerminalColor]
        switch mode {
        case .palette256: ramp = Palette.ordered256(colormap).map(TerminalColor.indexed)
        case .palette16: ramp = Palette.ramp16.map(TerminalColor.indexed)
        default: ramp = []
        }
        func fieldColor(_ value: Float) -> TerminalColor {
            let v = value.isFinite ? min(max(value, 0), 1) : 0
            if mode == .truecolor { return .rgb(colormap.color(v)) }
            return ramp[min(ramp.count - 1, Int(v * Float(ramp.count)))]
        }
        var grid = CellGrid(width: columns, height: rows)
        for row in 0..<rows {
            for column in 0..<columns {
                if pixelsPerCell == 2 {
                    grid[row, column] = Cell("▀", foreground: fieldColor(values[(2 * row) * columns + column]),
                                             background: fieldColor(values[(2 * row + 1) * columns + column]))
                } else {
                    let v = values[row * columns + column]
                    grid[row, column] = Cell(Self.rampCharacter(v), foreground: mode == .none ? .default : fieldColor(v))
                }
            }
        }
        return grid
    }

    public func color(_ pixel: RGB) -> TerminalColor {
        switch mode {
        case .truecolor: return .rgb(pixel)
        case .palette256: return .indexed(Palette.nearest256(pixel))
        case .palette16: return .indexed(Palette.nearest16(pixel))
        case .none: return .default
        }
    }

    static func rampCharacter(_ value: Float) -> Character {
        let v = value.isFinite ? min(max(value, 0), 1) : 0
        return asciiRamp[min(asciiRamp.count - 1, Int(v * Float(asciiRamp.count)))]
    }
}

extension PixelImage {
    /// The pixels as RGB values (gray and alpha converted as `rgb()` does).
    public var rgbPixels: [RGB] {
        let rgb = self.rgb()
        return (0..<(rgb.width * rgb.height)).map { RGB(rgb.pixels[3 * $0], rgb.pixels[3 * $0 + 1], rgb.pixels[3 * $0 + 2]) }
    }
}
