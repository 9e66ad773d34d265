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

    /// Sub-pixels per cell, across and down: half blocks stack two square pixels, quadrants
    /// and sextants split a cell 2×2 and 2×3. Without colour a block cannot show two
    /// values, so every cell is one pixel drawn with the ramp.
    public var pixelsAcross: Int { mode == .none ? 1 : BlockSymbols.layout(symbols).across }
    public var pixelsDown: Int { mode == .none ? 1 : BlockSymbols.layout(symbols).down }

    /// An RGB raster of `columns·pixelsAcross × rows·pixelsDown` pixels as cells.
    public func cells(rgb pixels: [RGB], columns: Int, rows: Int) -> CellGrid {
        let (across, down) = (pixelsAcross, pixelsDown)
        precondition(pixels.count == columns * across * rows * down)
        let width = columns * across
        var grid = CellGrid(width: columns, height: rows)
        var block = [RGB](repeating: RGB(0, 0, 0), count: across * down)
        for row in 0..<rows {
            for column in 0..<columns {
                if across == 1 && down == 1 {
                    let pixel = pixels[row * columns + column]
                    grid[row, column] = Cell(Self.rampCharacter(pixel.luma), foreground: mode == .none ? .default : color(pixel))
                } else if across == 1 {
                    // Half blocks: the upper pixel in front, the lower behind, no fit needed.
                    let top = pixels[(2 * row) * columns + column], bottom = pixels[(2 * row + 1) * columns + column]
                    grid[row, column] = Cell("▀", foreground: color(top), background: color(bottom))
                } else {
                    for y in 0..<down {
                        for x in 0..<across { block[y * across + x] = pixels[(row * down + y) * width + column * across + x] }
                    }
                    let fit = BlockSymbols.fit(block)
                    grid[row, column] = Cell(BlockSymbols.glyph(mask: fit.mask, down: down),
                                             foreground: color(fit.foreground), background: color(fit.background))
                }
            }
        }
        return grid
    }

    /// A scalar field in [0, 1] drawn with a colormap. In the palette modes the colours come
    /// from a lightness-ordered ramp, so that brighter always means more.
    public func cells(field values: [Float], columns: Int, rows: Int, colormap: Colormap) -> CellGrid {
        precondition(values.count == columns * pixelsAcross * rows * pixelsDown)
        let ramp: [TerminalColor]
        switch mode {
        case .palette256: ramp = Palette.ordered256(colormap).map(TerminalColor.indexed)
        case .palette16: ramp = Palette.ramp16.map(TerminalColor.indexed)
        default: ramp = []
        }
        func clamped(_ value: Float) -> Float { value.isFinite ? min(max(value, 0), 1) : 0 }
        func fieldColor(_ value: Float) -> TerminalColor {
            let v = clamped(value)
            if mode == .truecolor { return .rgb(colormap.color(v)) }
            return ramp[min(ramp.count - 1, Int(v * Float(ramp.count)))]
        }
        if pixelsAcross > 1 {
            // Quadrants and sextants fit colours, so the field becomes colours first.
            return cells(rgb: values.map { colormap.color(clamped($0)) }, columns: columns, rows: rows)
        }
        var grid = CellGrid(width: columns, height: rows)
        for row in 0..<rows {
            for column in 0..<columns {
                if pixelsDown == 2 {
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
