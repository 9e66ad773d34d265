import Explorer
import TerminalCanvas
import Testing

/// Each colour mode and symbol set, through the cells of the map panel.
struct FrameColourTests {
    /// The cells of the map panel (the middle third, below the title row).
    static func mapCells(_ state: ExplorerState) -> [Cell] {
        let frame = FrameComposer.frame(state)
        let width = (state.columns - 2) / 3
        return (2..<(state.rows - 3)).flatMap { row in (width + 1..<(2 * width + 1)).map { frame[row, $0] } }
            .filter { $0.character != " " }
    }

    @Test func truecolorUsesTheColormapsRGB() {
        let cells = Self.mapCells(ExplorerFixture.state(mode: .truecolor))
        #expect(!cells.isEmpty && cells.allSatisfy { $0.character == "▀" })
        let viridis = Set((0...255).map { Colormap.viridis.color(Float($0) / 255) })
        for cell in cells {
            guard case .rgb(let top) = cell.foreground, case .rgb(let bottom) = cell.background else {
                Issue.record("not RGB: \(cell)")
                return
            }
            #expect(viridis.contains(top) && viridis.contains(bottom))
        }
    }

    @Test func palette256UsesTheLightnessOrderedRamp() {
        let cells = Self.mapCells(ExplorerFixture.state(mode: .palette256))
        let ramp = Set(Palette.ordered256(.viridis))
        for cell in cells {
            guard case .indexed(let index) = cell.foreground else { Issue.record("not indexed"); return }
            #expect(ramp.contains(index))
        }
    }

    @Test func palette16UsesTheSixteenColours() {
        let cells = Self.mapCells(ExplorerFixture.state(mode: .palette16))
        for cell in cells {
            guard case .indexed(let index) = cell.foreground else { Issue.record("not indexed"); return }
            #expect(index < 16)
        }
    }

    @Test func noColourDrawsWithTheASCIIRamp() {
        let state = ExplorerFixture.state(mode: .none, symbols: .half)
        let frame = FrameComposer.frame(state)
        #expect(frame.cells.allSatisfy { $0.foreground == .default && $0.background == .default })
        let cells = Self.mapCells(state)
        #expect(!cells.isEmpty && cells.allSatisfy { Rasterizer.asciiRamp.contains($0.character) })
    }

    @Test func asciiSymbolsInColourKeepOneCharacterPerCell() {
        let cells = Self.mapCells(ExplorerFixture.state(mode: .palette256, symbols: .ascii))
        #expect(!cells.isEmpty && cells.allSatisfy { $0.character.isASCII })
    }
}
