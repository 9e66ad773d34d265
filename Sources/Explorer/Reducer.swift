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
        case .character("a"): s.head = .mean
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
        case .character("q"), .escape: s.quit = true
        default: break
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
        case .mean: position = 0
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
