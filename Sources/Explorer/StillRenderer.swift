import Foundation
import TerminalCanvas

/// One still rendering of a state's current image, sized by its width: the panels, a
/// colour scale and a caption. For `render` and the `ansi` export.
public enum StillRenderer {
    public struct Failure: Error {
        public let message: String
    }

    /// `pixels`: draw the panels (or a grid's tiles) as real pixels in that protocol, the
    /// scale, titles and caption as text.
    public static func render(_ state: ExplorerState, pixels: PixelStill? = nil) throws -> String {
        guard let entry = state.current, let result = entry.result else { throw Failure(message: "nothing to render") }
        if state.layout != .single { return try grid(state, entry: entry, result: result, pixels: pixels) }
        guard let computed = MapComputation.compute(state) else { throw Failure(message: "nothing to render") }
        let map: MapComputation
        switch computed {
        case .success(let value): map = value
        case .failure(let error): throw Failure(message: error.description)
        }
        let painter = PanelPainter(rasterizer: Rasterizer(mode: state.colorMode, symbols: state.symbols))
        let image = result.image
        let count = state.view == .side ? 3 : 1
        let panelWidth = (state.columns - (count - 1)) / count
        let box = painter.fit(imageWidth: image.width, imageHeight: image.height, columns: panelWidth, rows: 10_000)
        let values = map.displayValues(threshold: state.thresholdOn ? state.mass : nil)
        var caption = "\(entry.name) | \(state.model.name) | \(map.methodText) | layer \(min(state.layer, result.trace.layers.count - 1) + 1)/\(state.model.layerCount)"
        if state.model.heads != nil { caption += " | head \(state.head)" }
        if state.thresholdOn { caption += " | mass \(state.mass)" }
        if let pixels {
            // Rows from the real cell shape, so that the picture keeps the image's aspect.
            let rows = max(1, Int((Double(box.columns * pixels.cellWidth) * Double(image.height)
                                   / Double(image.width) / Double(pixels.cellHeight)).rounded()))
            let images = pixels.panels(view: state.view, image: image, map: map, values: values, columns: box.columns,
                                       rows: rows, colormap: state.colormap, opacity: state.opacity,
                                       query: state.query.map { ($0.row, $0.column) })
            var text = CellGrid(width: count * panelWidth + (count - 1), height: 2)
            text.place(painter.legend(width: min(text.width, 40), colormap: state.colormap), row: 0, column: 0)
            text.write(String(caption.prefix(text.width)), row: 1, column: 0)
            do {
                return try pixels.place(images, columns: box.columns, rows: rows) { $0 * (panelWidth + 1) }
                    + AnsiWriter.text(text, mode: state.colorMode)
            } catch {
                throw Failure(message: "cannot encode the picture: \(error)")
            }
        }
        let panels = painter.panels(view: state.view, image: image, map: map, values: values, columns: panelWidth,
                                    rows: box.rows, colormap: state.colormap, opacity: state.opacity).map(\.grid)
        var grid = CellGrid(width: count * panelWidth + (count - 1), height: box.rows + 2)
        for (i, panel) in panels.enumerated() {
            grid.place(panel, row: 0, column: i * (panelWidth + 1))
            if let query = state.query, let patchGrid = state.patchGrid {
                let picture = Box(left: i * (panelWidth + 1), top: 0, width: panel.width, height: panel.height)
                let cell = ScreenLayout.cell(of: (query.row, query.column), in: picture, grid: patchGrid)
                grid.write(ScreenLayout.cursorCharacter(state), row: cell.row, column: cell.column, bold: true, reverse: true)
            }
        }
        grid.place(painter.legend(width: min(grid.width, 40), colormap: state.colormap), row: box.rows, column: 0)
        grid.write(String(caption.prefix(grid.width)), row: box.rows + 1, column: 0)
        return AnsiWriter.text(grid, mode: state.colorMode)
    }

    /// A grid of tiles at the state's width: tiles about 26 columns wide, as many rows of
    /// them as the tiles need, each picture at its image's shape; with `pixels`, each tile's
    /// picture drawn over its cells as the explorer draws it.
    static func grid(_ state: ExplorerState, entry: ExplorerState.Entry, result: ImageResult, pixels: PixelStill?) throws -> String {
        if let problem = state.gridProblem { throw Failure(message: problem) }
        var state = state
        let tiles = ScreenLayout.mapTileCount(state) + 1
        let columns = max(1, min(tiles, (state.columns + 1) / 27))
        let tileWidth = (state.columns - (columns - 1)) / columns
        let painter = PanelPainter(rasterizer: Rasterizer(mode: state.colorMode, symbols: state.symbols))
        let picture = painter.fit(imageWidth: result.image.width, imageHeight: result.image.height, columns: tileWidth, rows: 10_000)
        let tileRows = (tiles + columns - 1) / columns
        state.tileColumns = columns
        state.rows = tileRows * (picture.rows + 1) + 1 + 3      // tiles, the legend; header, status and hint rows
        state.selection = -1                                    // no highlighted tile in a still
        let frame = FrameComposer.frame(state)
        var grid = CellGrid(width: state.columns, height: state.rows - 3 + 1)
        for row in 0..<(state.rows - 3) {
            for column in 0..<state.columns { grid[row, column] = frame[row + 1, column] }
        }
        var caption = "\(entry.name) | \(state.model.name) | \(state.layout.rawValue) of "
        switch state.layout {
        case .heads, .layers: caption += (try? MapComputation.compute(state)?.get().methodText) ?? state.method.name
        default: caption += "layer \(state.layer + 1)"
        }
        if state.layout == .heads { caption += " | layer \(state.layer + 1)/\(state.model.layerCount)" }
        if let query = state.query { caption += " | query \(query.row),\(query.column)" }
        grid.write(String(caption.prefix(grid.width)), row: grid.height - 1, column: 0)
        let text = AnsiWriter.text(grid, mode: state.colorMode)
        guard let pixels else { return text }
        // The frame's boxes, one row up: the still leaves out the frame's header row.
        let pictures = PixelFrame.tiles(state, result: result, still: pixels, query: state.query.map { ($0.row, $0.column) })
            .map { PixelFrame.Picture(box: Box(left: $0.box.left, top: $0.box.top - 1, width: $0.box.width, height: $0.box.height),
                                      image: $0.image) }
        do {
            return try pixels.overlay(pictures, on: text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init))
        } catch {
            throw Failure(message: "cannot encode the picture: \(error)")
        }
    }
}
