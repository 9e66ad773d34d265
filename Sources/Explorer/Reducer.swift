import Pooling

/// The explorer's only state transition: `reduce(state, action) → state`.
public enum Reducer {
    public static func reduce(_ state: ExplorerState, _ action: ExplorerAction) -> ExplorerState {
        var s = state
        switch action {
        case .resize(let columns, let rows):
            s.columns = max(0, columns)
            s.rows = max(0, rows)
        case .loaded(let index, let result):
            if s.entries.indices.contains(index) { s.entries[index].status = .ready(result) }
        case .failed(let index, let message):
            if s.entries.indices.contains(index) { s.entries[index].status = .failed(message) }
        case .tick:
            s.tick &+= 1
        case .message(let text):
            s.message = text
        case .exportsTaken:
            s.exportRequests.removeAll()
        case .key(let pressed):
            handle(&s, pressed)
        case .mouse(let event):
            mouse(&s, event)
        }
        s.releaseDistantResults()
        return s
    }

    private static func handle(_ s: inout ExplorerState, _ key: Key) {
        if s.editingFilter {
            editFilter(&s, key)
            return
        }
        if s.showHelp {
            s.showHelp = false
            if key == .character("q") { s.quit = true }
            return
        }
        s.message = nil
        if s.query != nil, moveQuery(&s, key) { return }
        if s.layout != .single, s.query == nil, moveSelection(&s, key) { return }
        switch key {
        case .left, .character("h"): moveImage(&s, by: -1)
        case .right, .character("l"): moveImage(&s, by: 1)
        case .up, .character("k"): s.layer = min(s.model.layerCount - 1, s.layer + 1)
        case .down, .character("j"): s.layer = max(0, s.layer - 1)
        case .tab, .character("m"): s.methodIndex = (s.methodIndex + 1) % s.methods.count
        case .backTab, .character("M"): s.methodIndex = (s.methodIndex + s.methods.count - 1) % s.methods.count
        case .character(let c) where c.isNumber && c != "0":
            let number = Int(String(c))!
            if number <= s.methods.count { s.methodIndex = number - 1 }
        case .character("["): stepHead(&s, by: -1)
        case .character("]"): stepHead(&s, by: 1)
        case .character("a"): cycleFusion(&s)
        case .character("g"):
            s.layout = s.layout.next
            s.selection = s.currentTile
        case .enter: openTile(&s, s.selection)
        case .character("p"): toggleQuery(&s)
        case .character("s") where s.query != nil:
            if s.model.isTransformer { s.query!.similarity.toggle() } else { s.message = "this model has no attention: similarity only" }
        case .character("-"), .character("_"): stepParameter(&s, up: false)
        case .character("+"), .character("="): stepParameter(&s, up: true)
        case .character("t"): s.thresholdOn.toggle()
        case .character(","): s.mass = max(0.05, ((s.mass - 0.05) * 100).rounded() / 100)
        case .character("."): s.mass = min(1, ((s.mass + 0.05) * 100).rounded() / 100)
        case .character("c"): s.colormap = s.colormap.next
        case .character("v"): s.view = s.view.next
        case .character("o"):
            let steps: [Float] = [0.25, 0.5, 0.75, 1]
            s.opacity = steps[((steps.firstIndex(of: s.opacity) ?? 0) + 1) % steps.count]
        case .character("r"):
            let all = ExplorerState.resolutions
            s.resolution = all[((all.firstIndex(of: s.resolution) ?? -1) + 1) % all.count]
        case .character("/"): s.editingFilter = true
        case .character("e"), .character("E"), .character("x"): requestExport(&s, key)
        case .character(" "):
            if s.marked.contains(s.index) { s.marked.remove(s.index) } else { s.marked.insert(s.index) }
            s.message = "\(s.marked.count) image\(s.marked.count == 1 ? "" : "s") marked; x exports them"
        case .character("?"): s.showHelp = true
        case .escape:
            // Esc steps back out of a query, then out of a grid, then quits.
            if s.query != nil { s.query = nil } else if s.layout != .single { s.layout = .single } else { s.quit = true }
        case .character("q"): s.quit = true
        default: break
        }
    }

    /// Arrows move the query patch; true when the key was taken.
    private static func moveQuery(_ s: inout ExplorerState, _ key: Key) -> Bool {
        guard let grid = s.patchGrid else { return false }
        var query = s.query!
        switch key {
        case .left: query.column = max(0, query.column - 1)
        case .right: query.column = min(grid.columns - 1, query.column + 1)
        case .up: query.row = max(0, query.row - 1)
        case .down: query.row = min(grid.rows - 1, query.row + 1)
        default: return false
        }
        s.query = query
        return true
    }

    /// Arrows move a grid's selection (up and down by a row of tiles); true when taken.
    private static func moveSelection(_ s: inout ExplorerState, _ key: Key) -> Bool {
        let count = ScreenLayout.mapTileCount(s)
        guard count > 0 else { return false }
        let size = s.current?.result.map { ($0.image.width, $0.image.height) } ?? (4, 3)
        let columns = ScreenLayout.tileColumns(s, imageWidth: size.0, imageHeight: size.1)
        let step: Int
        switch key {
        case .left: step = -1
        case .right: step = 1
        case .up: step = -columns
        case .down: step = columns
        default: return false
        }
        s.selection = min(count - 1, max(0, s.selection + step))
        return true
    }

    /// A grid's tile becomes the single view.
    private static func openTile(_ s: inout ExplorerState, _ index: Int) {
        guard s.layout != .single, index >= 0, index < ScreenLayout.mapTileCount(s) else { return }
        let settings = s.tileSettings(index)
        s.layer = settings.layer
        s.head = settings.head
        s.methodIndex = settings.methodIndex
        s.layout = .single
    }

    private static func toggleQuery(_ s: inout ExplorerState) {
        if s.query != nil {
            s.query = nil
            return
        }
        guard let grid = s.patchGrid else {
            s.message = "patch queries start once the image is computed"
            return
        }
        s.query = ExplorerState.Query(row: grid.rows / 2, column: grid.columns / 2, similarity: !s.model.isTransformer)
    }

    /// `a`: mean → max → min of the heads (rollout: its fusion option).
    private static func cycleFusion(_ s: inout ExplorerState) {
        let order: [HeadSelection] = [.mean, .max, .min]
        if s.method.name == "rollout" {
            var specification = s.method
            let code = Int(((specification.parameters["fusion"] ?? 0) ?? 0))
            specification.parameters["fusion"] = Double((code + 1) % order.count)
            s.methods[s.methodIndex] = specification
            return
        }
        let position = order.firstIndex(of: s.head).map { $0 + 1 } ?? 0
        s.head = order[position % order.count]
    }

    private static func mouse(_ s: inout ExplorerState, _ event: MouseEvent) {
        guard !s.showHelp, !s.editingFilter else { return }
        switch event {
        case .wheelUp: s.layer = min(s.model.layerCount - 1, s.layer + 1)
        case .wheelDown: s.layer = max(0, s.layer - 1)
        case .click(let column, let row):
            guard let result = s.current?.result, let grid = s.patchGrid else { return }
            let (width, height) = (result.image.width, result.image.height)
            if s.layout != .single {
                let tiles = ScreenLayout.tiles(s, imageWidth: width, imageHeight: height)
                guard let tile = tiles.first(where: { $0.box.contains(column: column, row: row) }) else { return }
                let picture = ScreenLayout.picture(in: tile.box, imageWidth: width, imageHeight: height, state: s)
                if s.query != nil, let patch = ScreenLayout.patch(at: column, row, in: picture, grid: grid) {
                    s.query!.row = patch.row
                    s.query!.column = patch.column
                } else if case .map(let index) = tile.content {
                    s.selection = index
                    openTile(&s, index)
                }
                return
            }
            for picture in ScreenLayout.pictures(s, imageWidth: width, imageHeight: height) {
                if let patch = ScreenLayout.patch(at: column, row, in: picture, grid: grid) {
                    let similarity = s.query?.similarity ?? !s.model.isTransformer
                    s.query = ExplorerState.Query(row: patch.row, column: patch.column, similarity: similarity)
                    return
                }
            }
        }
    }

    private static func requestExport(_ s: inout ExplorerState, _ key: Key) {
        switch key {
        case .character("e"):
            s.exportRequests.append(ExportRequest(indices: [s.index], methods: [s.method], layer: s.layer, head: s.head))
        case .character("E"):
            s.exportRequests.append(ExportRequest(indices: [s.index], methods: s.methods, layer: s.layer, head: s.head))
        default:
            guard !s.marked.isEmpty else {
                s.message = "no images marked (space marks the current one)"
                return
            }
            s.exportRequests.append(ExportRequest(indices: s.marked.sorted(), methods: [s.method], layer: s.layer, head: s.head))
        }
        s.message = "exporting…"
    }

    private static func editFilter(_ s: inout ExplorerState, _ key: Key) {
        switch key {
        case .enter: s.editingFilter = false
        case .escape:
            s.editingFilter = false
            s.filter = ""
        case .backspace: if !s.filter.isEmpty { s.filter.removeLast() }
        case .character(let c): s.filter.append(c)
        default: break
        }
        let visible = s.visibleIndices
        if !visible.contains(s.index), let first = visible.first { s.index = first }
    }

    /// Next or previous visible image that has not failed to load.
    private static func moveImage(_ s: inout ExplorerState, by step: Int) {
        let candidates = s.visibleIndices.filter { s.entries[$0].failure == nil || $0 == s.index }
        guard let position = candidates.firstIndex(of: s.index) else {
            if let first = candidates.first { s.index = first }
            return
        }
        var next = position + step
        while next >= 0 && next < candidates.count && s.entries[candidates[next]].failure != nil { next += step }
        if next >= 0 && next < candidates.count { s.index = candidates[next] }
    }

    private static func stepHead(_ s: inout ExplorerState, by step: Int) {
        guard let heads = s.model.heads, heads > 0 else { return }
        // mean ↔ 1 … heads: "]" from the mean shows head 1, "[" from head 1 the mean.
        let position: Int
        switch s.head {
        case .mean, .max, .min: position = 0
        case .index(let i): position = i + 1
        }
        let next = (position + step + heads + 1) % (heads + 1)
        s.head = next == 0 ? .mean : .index(next - 1)
    }

    /// The current method's main parameter, in steps that suit its scale.
    private static func stepParameter(_ s: inout ExplorerState, up: Bool) {
        var specification = s.methods[s.methodIndex]
        let defaultGamma = s.model.isTransformer ? 1.25 : 2.0
        func value(_ name: String, _ fallback: Double) -> Double {
            guard let stored = specification.parameters[name] else { return fallback }
            return stored ?? fallback
        }
        switch specification.name {
        case "gem":
            specification.parameters["p"] = max(0.5, value("p", 3) + (up ? 0.5 : -0.5))
        case "lse":
            let r = value("r", 10)
            specification.parameters["r"] = up ? r * 1.5 : max(0.01, r / 1.5)
        case "gmp":
            let lambda = value("lambda", 1000)
            specification.parameters["lambda"] = up ? lambda * 10 : max(1e-3, lambda / 10)
        case "rollout":
            let steps = [0, 0.5, 0.8, 0.9, 0.95, 0.99]
            let current = value("discard", 0)
            let position = steps.lastIndex { $0 <= current + 1e-9 } ?? 0
            specification.parameters["discard"] = steps[up ? min(steps.count - 1, position + 1) : max(0, position - 1)]
        case "simpool", "simpool-np":
            let fallback = specification.name == "simpool" ? (s.model.context.checkpointGamma ?? defaultGamma) : defaultGamma
            // From "gamma=none" the power mean comes back at 1.
            let gamma = specification.parameters["gamma"] == .some(nil) ? 1 : value("gamma", fallback)
            specification.parameters["gamma"] = max(0.25, gamma + (up ? 0.25 : -0.25))
        default:
            s.message = "\(specification.name) has no parameter to change"
            return
        }
        s.methods[s.methodIndex] = specification
    }
}
