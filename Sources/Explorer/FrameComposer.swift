import Foundation
import Pooling
import TerminalCanvas

/// Draws a state: header, panels, status line and hint bar (or the help, or the
/// "terminal too small" screen). A pure function of the state.
public enum FrameComposer {
    public static let hint = "←/→ image  ↑/↓ layer  Tab method  [/] head  g grid  p query  -/+ param  t mass  v view  ? help  q quit"

    /// The hint in a grid or in query mode, where the arrows do something else.
    static func hint(_ state: ExplorerState) -> String {
        if state.query != nil {
            return "arrows/click move the query patch  s attention/similarity  h/l image  k/j layer  g grid  p or Esc leave  ? help"
        }
        if state.layout != .single {
            return "arrows select  Enter/click open  g next grid  h/l image  k/j layer  Tab method  Esc single view  ? help"
        }
        return hint
    }

    public static let helpLines = [
        "simpool-explorer keys",
        "",
        "←/→  h/l      previous / next image",
        "↑/↓  k/j      deeper / shallower layer",
        "Tab/S-Tab m/M next / previous pooling method; 1–9 method by number",
        "[ ]  a        previous / next attention head; a: fuse heads by mean, max, min",
        "g             grids: every head, every layer, every method (arrows, Enter)",
        "p   s         patch query (arrows or click move it); attention / similarity",
        "mouse         click a tile or a patch; wheel: layer",
        "- +           the method's parameter (γ, p, r, λ, rollout's discard)",
        "t   , .       threshold at a mass on/off; less / more mass",
        "c   v   o     colormap; view (side, map, overlay, image); overlay opacity",
        "r             input resolution (224, 336, 448)",
        "/             filter images by name (Enter keeps, Esc clears)",
        "e   E         export this map; every method for this image (png, npy, json)",
        "space  x      mark the image; export the marked images",
        "?             this help;  Esc: leave query / grid, quit;  q: quit",
        "",
        "any key closes this help",
    ]

    public static func frame(_ state: ExplorerState) -> CellGrid {
        var grid = CellGrid(width: state.columns, height: state.rows)
        if state.isTooSmall {
            let lines = ["terminal too small", "need \(ExplorerState.minimumColumns)×\(ExplorerState.minimumRows),",
                         "have \(state.columns)×\(state.rows)"]
            for (i, line) in lines.enumerated() {
                grid.write(line, row: state.rows / 2 - 1 + i, column: max(0, (state.columns - line.count) / 2))
            }
            return grid
        }
        header(&grid, state)
        let computation = MapComputation.compute(state)
        body(&grid, state, computation)
        status(&grid, state, computation)
        if state.editingFilter {
            grid.write("filter: " + state.filter + "▏" + String(repeating: " ", count: state.columns), row: state.rows - 1, column: 0, reverse: true)
        } else {
            let hint = Self.hint(state)
            grid.write(hint + String(repeating: " ", count: max(0, state.columns - hint.count)), row: state.rows - 1, column: 0)
        }
        if state.showHelp { help(&grid, state) }
        return grid
    }

    static func header(_ grid: inout CellGrid, _ state: ExplorerState) {
        let visible = state.visibleIndices
        let position = (visible.firstIndex(of: state.index) ?? 0) + 1
        var text = " simpool-explorer  [\(position)/\(visible.count)]"
        if let entry = state.current {
            text += "  \(state.marked.contains(state.index) ? "* " : "")\(entry.name)"
            if let result = entry.result { text += "  \(result.image.width)×\(result.image.height)" }
        } else if visible.isEmpty {
            text += "  no image matches '\(state.filter)'"
        }
        grid.write(text.padding(toLength: state.columns, withPad: " ", startingAt: 0), row: 0, column: 0, bold: true, reverse: true)
    }

    static func body(_ grid: inout CellGrid, _ state: ExplorerState, _ computation: Result<MapComputation, PoolingError>?) {
        let top = 1, height = state.rows - 3
        let painter = PanelPainter(rasterizer: Rasterizer(mode: state.colorMode, symbols: state.symbols))
        guard let entry = state.current else { return }
        if let failure = entry.failure {
            grid.write("cannot show \(entry.name): \(failure)", row: top + height / 2, column: 1)
            return
        }
        guard let result = entry.result, let computation else {
            let spinner = ["|", "/", "-", "\\"][state.tick % 4]
            grid.write("\(spinner) computing \(entry.name)…", row: top + height / 2, column: max(0, state.columns / 2 - 12))
            return
        }
        let image = result.image
        if state.layout != .single {
            tiles(&grid, state, result, painter: painter)
            return
        }
        var titles: [(String, CellGrid)] = []
        let panelCount = state.view == .side ? 3 : 1
        let panelWidth = (state.columns - (panelCount - 1)) / panelCount
        let panelHeight = height - 2            // a title row above, a legend row below
        switch computation {
        case .failure(let error):
            titles.append(("image", painter.image(image, columns: panelWidth, rows: panelHeight)))
            grid.write(error.description, row: top + height / 2, column: 1)
            if state.view == .side || state.view == .image { place(&grid, titles, top: top, width: panelWidth) }
            return
        case .success(let map):
            let values = map.displayValues(threshold: state.thresholdOn ? state.mass : nil)
            titles = painter.panels(view: state.view, image: image, map: map, values: values, columns: panelWidth,
                                    rows: panelHeight, colormap: state.colormap, opacity: state.opacity).map { ($0.title, $0.grid) }
            place(&grid, titles, top: top, width: panelWidth)
            if state.view != .image {
                let legendWidth = min(state.columns, 40)
                grid.place(painter.legend(width: legendWidth, colormap: state.colormap), row: top + height - 1, column: 0)
            }
            cursor(&grid, state, imageWidth: image.width, imageHeight: image.height)
        }
    }

    /// A grid: the image, then one tile per head, layer or method, the selection
    /// highlighted, every tile computed from this image's trace.
    static func tiles(_ grid: inout CellGrid, _ state: ExplorerState, _ result: ImageResult, painter: PanelPainter) {
        let body = ScreenLayout.body(state)
        if let problem = state.gridProblem {
            grid.write(String(problem.prefix(state.columns - 2)), row: body.top + body.height / 2, column: 1)
            return
        }
        let image = result.image
        for tile in ScreenLayout.tiles(state, imageWidth: image.width, imageHeight: image.height) {
            let box = tile.box
            let pictureRows = box.height - 1
            switch tile.content {
            case .image:
                grid.write(String("image".prefix(box.width)), row: box.top, column: box.left, bold: true)
                let picture = painter.image(image, columns: box.width, rows: pictureRows)
                grid.place(picture, row: box.top + 1, column: box.left + max(0, (box.width - picture.width) / 2))
            case .map(let index):
                let settings = state.tileSettings(index)
                let computed = MapComputation.compute(trace: result.trace, state: state, layer: settings.layer,
                                                      head: settings.head, methodIndex: settings.methodIndex)
                let selected = index == state.selection
                let title = (selected ? "▸" : " ") + tileTitle(state, index, computed)
                grid.write(String(title.prefix(box.width)), row: box.top, column: box.left, bold: selected, reverse: selected)
                switch computed {
                case .success(let map):
                    let values = map.displayValues(threshold: state.thresholdOn ? state.mass : nil)
                    let panel = state.view == .overlay
                        ? painter.overlay(image, values: values, gridHeight: map.gridHeight, gridWidth: map.gridWidth,
                                          columns: box.width, rows: pictureRows, colormap: state.colormap, opacity: state.opacity)
                        : painter.map(values, gridHeight: map.gridHeight, gridWidth: map.gridWidth, imageWidth: image.width,
                                      imageHeight: image.height, columns: box.width, rows: pictureRows, colormap: state.colormap)
                    grid.place(panel, row: box.top + 1, column: box.left + max(0, (box.width - panel.width) / 2))
                case .failure(let error):
                    let words = error.description
                    for line in 0..<min(pictureRows, (words.count + box.width - 1) / max(1, box.width)) {
                        let start = words.index(words.startIndex, offsetBy: line * box.width)
                        let end = words.index(start, offsetBy: min(box.width, words.distance(from: start, to: words.endIndex)))
                        grid.write(String(words[start..<end]), row: box.top + 1 + line, column: box.left)
                    }
                }
            }
        }
        let legendWidth = min(state.columns, 40)
        grid.place(painter.legend(width: legendWidth, colormap: state.colormap), row: body.top + body.height - 1, column: 0)
        cursor(&grid, state, imageWidth: image.width, imageHeight: image.height)
    }

    static func tileTitle(_ state: ExplorerState, _ index: Int, _ computed: Result<MapComputation, PoolingError>) -> String {
        switch state.layout {
        case .single: return ""
        case .heads: return index == 0 ? "mean of heads" : "head \(index)"
        case .layers: return "layer \(index + 1)"
        case .methods:
            if case .success(let map) = computed { return map.methodText }
            return state.methods[index].name
        }
    }

    /// The query patch marked on every picture.
    static func cursor(_ grid: inout CellGrid, _ state: ExplorerState, imageWidth: Int, imageHeight: Int) {
        guard let query = state.query, let patchGrid = state.patchGrid else { return }
        for picture in ScreenLayout.pictures(state, imageWidth: imageWidth, imageHeight: imageHeight)
        where picture.width > 0 && picture.height > 0 {
            let cell = ScreenLayout.cell(of: (query.row, query.column), in: picture, grid: patchGrid)
            grid.write(ScreenLayout.cursorCharacter(state), row: cell.row, column: cell.column, bold: true, reverse: true)
        }
    }

    static func place(_ grid: inout CellGrid, _ panels: [(String, CellGrid)], top: Int, width: Int) {
        for (i, (title, panel)) in panels.enumerated() {
            let left = i * (width + 1)
            grid.write(String(title.prefix(width)), row: top, column: left, bold: true)
            grid.place(panel, row: top + 1, column: left + max(0, (width - panel.width) / 2))
        }
    }

    static func status(_ grid: inout CellGrid, _ state: ExplorerState, _ computation: Result<MapComputation, PoolingError>?) {
        var parts = [state.model.name, state.methodSpecificationText(computation)]
        parts.append("layer \(state.layer + 1)/\(state.model.layerCount)")
        if state.model.heads != nil {
            parts.append("head \(state.head)" + (state.model.headsGuessed ? " (\(state.model.heads!) heads guessed: --num-heads)" : ""))
        }
        parts.append(state.thresholdOn ? "mass \(String(format: "%.2f", state.mass))" : "mass off")
        let failed = state.failedNames
        if !failed.isEmpty { parts.append("failed: " + failed.joined(separator: ", ")) }
        if let result = state.current?.result {
            parts.append("fwd \(Int(result.forwardMilliseconds.rounded())) ms")
            if case .success(let map)? = computation { parts.append("pool \(String(format: "%.1f", map.milliseconds)) ms") }
            if let top = result.topLabel { parts.append("\(top.name) \(Int((top.probability * 100).rounded()))%") }
            if let warning = result.decodeWarning { parts.append(warning) }
        }
        var text = " " + parts.joined(separator: " │ ")
        if let message = state.message { text = " " + message }
        grid.write(text.padding(toLength: state.columns, withPad: " ", startingAt: 0), row: state.rows - 2, column: 0, reverse: true)
    }

    static func help(_ grid: inout CellGrid, _ state: ExplorerState) {
        let width = min(state.columns - 2, (helpLines.map(\.count).max() ?? 0) + 4)
        let height = min(state.rows - 2, helpLines.count + 2)
        let left = max(0, (state.columns - width) / 2), top = max(0, (state.rows - height) / 2)
        for row in 0..<height {
            grid.write(String(repeating: " ", count: width), row: top + row, column: left, reverse: true)
        }
        for (i, line) in helpLines.prefix(height - 2).enumerated() {
            grid.write(String(line.prefix(width - 4)), row: top + 1 + i, column: left + 2, bold: i == 0, reverse: true)
        }
    }
}

extension ExplorerState {
    func methodSpecificationText(_ computation: Result<MapComputation, PoolingError>?) -> String {
        if case .success(let map)? = computation { return map.methodText }
        if let made = try? MethodCatalog.make(method, context: model.context) { return made.specification }
        return method.name
    }
}
