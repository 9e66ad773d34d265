import Pooling
import TerminalCanvas

/// A rectangle of cells.
public struct Box: Sendable, Equatable {
    public var left: Int, top: Int, width: Int, height: Int

    public init(left: Int, top: Int, width: Int, height: Int) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
    }

    public func contains(column: Int, row: Int) -> Bool {
        column >= left && column < left + width && row >= top && row < top + height
    }
}

/// Where things sit on the screen, computed from the state alone: the frame is drawn from
/// it and mouse clicks are mapped back through it, so the two always agree.
public enum ScreenLayout {
    /// Rows between the header and the status line.
    static func body(_ state: ExplorerState) -> Box {
        Box(left: 0, top: 1, width: state.columns, height: max(0, state.rows - 3))
    }

    /// The single view's panels: a title row, then the picture (the legend row sits below).
    static func panels(_ state: ExplorerState) -> [Box] {
        let body = body(state)
        let count = state.view == .side ? 3 : 1
        let width = (state.columns - (count - 1)) / count
        return (0..<count).map { Box(left: $0 * (width + 1), top: body.top, width: width, height: max(0, body.height - 1)) }
    }

    /// One tile of a grid: its box (a title row, then the picture) and what it shows.
    public struct Tile: Sendable, Equatable {
        public enum Content: Sendable, Equatable {
            case image
            /// Map tile `index` of the grid (its selection number).
            case map(Int)
        }
        public let box: Box
        public let content: Content
    }

    /// How many map tiles the current grid has: heads (mean first) of this layer, every
    /// layer, or every method; 0 when the grid does not apply (see `gridProblem`).
    static func mapTileCount(_ state: ExplorerState) -> Int {
        switch state.layout {
        case .single: return 0
        case .heads: return state.gridProblem == nil ? 1 + (state.model.heads ?? 0) : 0
        case .layers: return state.model.layerCount
        case .methods: return state.methods.count
        }
    }

    /// The tiles on screen: the image first, then as many map tiles as fit at a readable
    /// size, paged so that the selection is always visible. The tile grid is the one that
    /// shows the pictures largest.
    public static func tiles(_ state: ExplorerState, imageWidth: Int, imageHeight: Int) -> [Tile] {
        let maps = mapTileCount(state)
        guard maps > 0 else { return [] }
        let body = body(state)
        let area = Box(left: 0, top: body.top, width: body.width, height: max(0, body.height - 1))   // legend below
        let painter = PanelPainter(rasterizer: Rasterizer(mode: state.colorMode, symbols: state.symbols))
        let minimum = (width: 10, height: 4)
        var best: (columns: Int, rows: Int, score: Int)?
        for columns in state.tileColumns.map({ [$0] }) ?? Array(1...(maps + 1)) {
            let rows = (maps + 1 + columns - 1) / columns
            let width = (area.width - (columns - 1)) / columns, height = area.height / rows
            guard width >= minimum.width, height >= minimum.height else { continue }
            let fit = painter.fit(imageWidth: imageWidth, imageHeight: imageHeight, columns: width, rows: height - 1)
            let score = fit.columns * fit.rows
            if best == nil || score > best!.score { best = (columns, rows, score) }
        }
        // Too many tiles for the window: pages of the largest grid of readable tiles.
        let columns = best?.columns ?? max(1, (area.width + 1) / (minimum.width + 1))
        let rows = best?.rows ?? max(1, area.height / minimum.height)
        let width = (area.width - (columns - 1)) / columns, height = area.height / rows
        let perPage = max(1, columns * rows - 1)
        let first = (min(max(0, state.selection), maps - 1) / perPage) * perPage
        var tiles = [Tile(box: Box(left: 0, top: area.top, width: width, height: height), content: .image)]
        for (slot, index) in (first..<min(maps, first + perPage)).enumerated() {
            let position = slot + 1
            let box = Box(left: (position % columns) * (width + 1), top: area.top + (position / columns) * height,
                          width: width, height: height)
            tiles.append(Tile(box: box, content: .map(index)))
        }
        return tiles
    }

    /// The columns of map tiles per row, for moving the selection up and down.
    static func tileColumns(_ state: ExplorerState, imageWidth: Int, imageHeight: Int) -> Int {
        let tiles = tiles(state, imageWidth: imageWidth, imageHeight: imageHeight)
        guard let first = tiles.first else { return 1 }
        return max(1, tiles.filter { $0.box.top == first.box.top }.count)
    }

    /// Where the picture of an image-shaped panel sits inside `box` (below its title row).
    static func picture(in box: Box, imageWidth: Int, imageHeight: Int, state: ExplorerState) -> Box {
        let painter = PanelPainter(rasterizer: Rasterizer(mode: state.colorMode, symbols: state.symbols))
        let fit = painter.fit(imageWidth: imageWidth, imageHeight: imageHeight, columns: box.width, rows: box.height - 1)
        return Box(left: box.left + max(0, (box.width - fit.columns) / 2), top: box.top + 1, width: fit.columns, height: fit.rows)
    }

    /// Every picture on screen (panels or tiles), where the query cursor is drawn and
    /// clicks pick a patch.
    static func pictures(_ state: ExplorerState, imageWidth: Int, imageHeight: Int) -> [Box] {
        let boxes = state.layout == .single ? panels(state)
            : tiles(state, imageWidth: imageWidth, imageHeight: imageHeight).map(\.box)
        return boxes.map { picture(in: $0, imageWidth: imageWidth, imageHeight: imageHeight, state: state) }
    }

    /// The patch (row, column) under a cell of a picture.
    static func patch(at column: Int, _ row: Int, in picture: Box, grid: (rows: Int, columns: Int)) -> (row: Int, column: Int)? {
        guard picture.contains(column: column, row: row), picture.width > 0, picture.height > 0 else { return nil }
        let x = (Double(column - picture.left) + 0.5) / Double(picture.width)
        let y = (Double(row - picture.top) + 0.5) / Double(picture.height)
        return (min(grid.rows - 1, Int(y * Double(grid.rows))), min(grid.columns - 1, Int(x * Double(grid.columns))))
    }

    /// The query cursor: a reversed `+`, or `X` without colour, where `+` is a shade of
    /// the ASCII ramp and reversal may not show.
    static func cursorCharacter(_ state: ExplorerState) -> String { state.colorMode == .none ? "X" : "+" }

    /// The cell of a picture over a patch's centre.
    static func cell(of patch: (row: Int, column: Int), in picture: Box, grid: (rows: Int, columns: Int)) -> (column: Int, row: Int) {
        let x = (Double(patch.column) + 0.5) / Double(grid.columns) * Double(picture.width)
        let y = (Double(patch.row) + 0.5) / Double(grid.rows) * Double(picture.height)
        return (picture.left + min(picture.width - 1, Int(x)), picture.top + min(picture.height - 1, Int(y)))
    }
}

extension ExplorerState {
    /// Why the heads grid cannot show this method, if it cannot.
    public var gridProblem: String? {
        guard layout == .heads else { return nil }
        guard let heads = model.heads, heads > 0, model.isTransformer else {
            return "no attention heads in this model: g shows the layers or the methods"
        }
        if query != nil && !(query!.similarity) { return nil }
        if method.name == "cls" && model.hasClassToken { return nil }
        return "\(method.name) has no per-head maps: the heads grid shows cls and patch queries (p); g for layers or methods"
    }

    /// The layer, head and method a map tile shows.
    public func tileSettings(_ index: Int) -> (layer: Int, head: HeadSelection, methodIndex: Int) {
        switch layout {
        case .single: return (layer, head, methodIndex)
        case .heads: return (layer, index == 0 ? .mean : .index(index - 1), methodIndex)
        case .layers: return (index, head, methodIndex)
        case .methods: return (layer, head, index)
        }
    }

    /// The map tile showing what the single view shows now.
    var currentTile: Int {
        switch layout {
        case .single, .methods: return layout == .methods ? methodIndex : 0
        case .heads: if case .index(let i) = head { return i + 1 } else { return 0 }
        case .layers: return layer
        }
    }
}
