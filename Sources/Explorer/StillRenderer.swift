import Foundation
import TerminalCanvas

/// One still rendering of a state's current image, sized by its width: the panels, a
/// colour scale and a caption. For `render` and the `ansi` export.
public enum StillRenderer {
    public struct Failure: Error {
        public let message: String
    }

    public static func render(_ state: ExplorerState) throws -> String {
        guard let entry = state.current, let result = entry.result else { throw Failure(message: "nothing to render") }
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
        let panels = painter.panels(view: state.view, image: image, map: map, values: values, columns: panelWidth,
                                    rows: box.rows, colormap: state.colormap, opacity: state.opacity).map(\.grid)
        var grid = CellGrid(width: count * panelWidth + (count - 1), height: box.rows + 2)
        for (i, panel) in panels.enumerated() { grid.place(panel, row: 0, column: i * (panelWidth + 1)) }
        grid.place(painter.legend(width: min(grid.width, 40), colormap: state.colormap), row: box.rows, column: 0)
        var caption = "\(entry.name) | \(state.model.name) | \(map.methodText) | layer \(min(state.layer, result.trace.layers.count - 1) + 1)/\(state.model.layerCount)"
        if state.model.heads != nil { caption += " | head \(state.head)" }
        if state.thresholdOn { caption += " | mass \(state.mass)" }
        grid.write(String(caption.prefix(grid.width)), row: box.rows + 1, column: 0)
        return AnsiWriter.text(grid, mode: state.colorMode)
    }
}
