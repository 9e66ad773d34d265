import Testing
import TerminalCanvas

/// Colour detection, quantisation and ANSI output, against values worked by hand.
struct CanvasTests {
    @Test func colourModeFollowsTheDesignsOrder() {
        #expect(ColorMode.detect(flag: .palette16, environment: ["COLORTERM": "truecolor"], terminfoColors: 256) == .palette16)
        #expect(ColorMode.detect(flag: nil, environment: ["NO_COLOR": "1", "COLORTERM": "truecolor"], terminfoColors: 256) == .none)
        #expect(ColorMode.detect(flag: nil, environment: ["COLORTERM": "24bit"], terminfoColors: 8) == .truecolor)
        #expect(ColorMode.detect(flag: nil, environment: [:], terminfoColors: 256) == .palette256)
        #expect(ColorMode.detect(flag: nil, environment: [:], terminfoColors: 8) == .palette16)
        #expect(ColorMode.detect(flag: nil, environment: [:], terminfoColors: nil) == .none)
        #expect(ColorMode.detect(flag: nil, environment: ["NO_COLOR": ""], terminfoColors: 256) == .palette256)
    }

    @Test func nearestPaletteEntries() {
        // The cube's corners and levels: 16 + 36r + 6g + b.
        #expect(Palette.nearest256(RGB(255, 0, 0)) == 196)
        #expect(Palette.nearest256(RGB(0, 0, 0)) == 16)
        #expect(Palette.nearest256(RGB(95, 135, 175)) == 16 + 36 * 1 + 6 * 2 + 3)
        // A mid grey is closer to the grey ramp (238 = 8 + 10·… index 232 + 6 → 68) than to the cube.
        #expect(Palette.nearest256(RGB(68, 68, 68)) == 238)
        #expect(Palette.nearest16(RGB(250, 250, 250)) == 15)
        #expect(Palette.nearest16(RGB(0, 0, 200)) == 4)
    }

    @Test(arguments: Colormap.allCases)
    func squeezedColormapsKeepTheirLightnessOrder(colormap: Colormap) {
        let ramp = Palette.ordered256(colormap)
        let lightness = ramp.map { Palette.xterm256[Int($0)].lightness }
        for (a, b) in zip(lightness, lightness.dropFirst()) { #expect(a <= b + 1e-9) }
        #expect(lightness.last! - lightness.first! > 40, "the ramp must span dark to light")
    }

    @Test func colormapEndpointsAreMatplotlibs() {
        #expect(Colormap.viridis.color(0) == RGB(0x44, 0x01, 0x54))
        #expect(Colormap.viridis.color(1) == RGB(0xFD, 0xE7, 0x25))
        #expect(Colormap.gray.color(0.5) == RGB(128, 128, 128))
        #expect(Colormap.magma.color(-3) == Colormap.magma.color(0))
    }

    @Test func halfBlocksPutTheUpperPixelInTheForeground() {
        let grid = Rasterizer(mode: .truecolor, symbols: .half)
            .cells(rgb: [RGB(255, 0, 0), RGB(0, 0, 255)], columns: 1, rows: 1)
        #expect(grid[0, 0] == Cell("▀", foreground: .rgb(RGB(255, 0, 0)), background: .rgb(RGB(0, 0, 255))))
    }

    @Test func ansiSequencesForEachMode() {
        var grid = CellGrid(width: 2, height: 1)
        grid[0, 0] = Cell("a", foreground: .rgb(RGB(1, 2, 3)), background: .indexed(200))
        grid[0, 1] = Cell("b", foreground: .indexed(9), background: .indexed(4), bold: true)
        #expect(AnsiWriter.text(grid, mode: .truecolor) == "\u{1B}[0;38;2;1;2;3;48;5;200ma\u{1B}[0;1;91;44mb\u{1B}[0m\n")
        #expect(AnsiWriter.text(grid, mode: .none) == "ab\n")
    }

    @Test func asciiRampByValue() {
        let grid = Rasterizer(mode: .none, symbols: .ascii).cells(field: [0, 0.5, 1], columns: 3, rows: 1, colormap: .viridis)
        #expect(grid.text(row: 0) == " +@")
    }
}
