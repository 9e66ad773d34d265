@testable import Explorer
import ModelRuntime
import Pooling
import Tensors
import TerminalCanvas
import Testing
import TestSupport

/// Small multiples, patch queries, head fusion and the mouse, driven through the state
/// machine and checked in its frames (the fixture ViT: 2 blocks, 3 heads, a 4×6 grid).
struct GridAndQueryTests {
    static func state(columns: Int = 120, rows: Int = 36) -> ExplorerState {
        var state = ExplorerFixture.state(columns: columns, rows: rows)
        state.methodIndex = 1   // cls
        return state
    }

    @Test func gCyclesTheGridsAndEnterOpensATile() {
        var state = Self.state()
        state = ExplorerFixture.press(state, .character("g"))
        #expect(state.layout == .heads && state.selection == 0)
        var frame = FrameComposer.frame(state)
        #expect(frame.allText.contains("▸mean of heads"))
        #expect(frame.allText.contains("head 1") && frame.allText.contains("head 3"))
        state = ExplorerFixture.press(state, .right, .right)
        #expect(state.selection == 2)
        frame = FrameComposer.frame(state)
        #expect(frame.allText.contains("▸head 2"))
        state = ExplorerFixture.press(state, .enter)
        #expect(state.layout == .single && state.head == .index(1))

        state = ExplorerFixture.press(state, .character("g"), .character("g"))
        #expect(state.layout == .layers && state.selection == state.layer)
        #expect(FrameComposer.frame(state).allText.contains("layer 1") && FrameComposer.frame(state).allText.contains("▸layer 2"))
        state = ExplorerFixture.press(state, .left, .enter)
        #expect(state.layout == .single && state.layer == 0)

        state = ExplorerFixture.press(state, .character("g"), .character("g"), .character("g"))
        #expect(state.layout == .methods && state.selection == 1)
        frame = FrameComposer.frame(state)
        #expect(frame.allText.contains("simpool-np:gamma=1.25") && frame.allText.contains("gem:p=3"))
        state = ExplorerFixture.press(state, .right, .right, .enter)
        #expect(state.method.name == "gap" && state.layout == .single)
        state = ExplorerFixture.press(state, .character("g"), .character("g"), .character("g"), .character("g"))
        #expect(state.layout == .single)
    }

    @Test func theHeadsGridSaysWhyNotForMethodsWithoutHeads() {
        var state = Self.state()
        state.methodIndex = 4   // gem
        state = ExplorerFixture.press(state, .character("g"))
        #expect(FrameComposer.frame(state).allText.contains("gem has no per-head maps"))
        #expect(ExplorerFixture.press(state, .enter).layout == .heads, "nothing to open")
    }

    /// Tiles fit the terminal: at 80×24 a 2×2 grid at least; more at 200×60, with the
    /// image in the first tile.
    @Test(arguments: [(80, 24), (200, 60)])
    func tilesFitTheTerminal(columns: Int, rows: Int) {
        var state = Self.state(columns: columns, rows: rows)
        state = ExplorerFixture.press(state, .character("g"))
        let tiles = ScreenLayout.tiles(state, imageWidth: 48, imageHeight: 32)
        #expect(tiles.count == 5 && tiles.first?.content == .image)   // the image, the mean, 3 heads
        let tileRows = Set(tiles.map(\.box.top)).count, tileColumns = Set(tiles.map(\.box.left)).count
        #expect(tileRows >= 2 && tileColumns >= 2 || tileColumns >= 4, "\(tiles.map(\.box))")
        for tile in tiles {
            #expect(tile.box.left + tile.box.width <= columns && tile.box.top + tile.box.height <= rows - 3)
        }
        let frame = FrameComposer.frame(state)
        #expect(frame.text(row: 1).hasPrefix("image"))
        #expect(frame.allText.contains("low ") && frame.allText.contains(" high"))
    }

    @Test func manyTilesArePagedAroundTheSelection() {
        var state = Self.state(columns: 40, rows: 12)
        state.methods = MethodCatalog.defaults + MethodCatalog.defaults
        state = ExplorerFixture.press(state, .character("g"), .character("g"), .character("g"))
        let count = state.methods.count
        state.selection = count - 1
        let tiles = ScreenLayout.tiles(state, imageWidth: 48, imageHeight: 32)
        #expect(tiles.count < count + 1, "paged")
        #expect(tiles.contains { $0.content == .map(count - 1) })
    }

    @Test func queryModeMovesACursorAndTheMapFollowsIt() throws {
        var state = Self.state()
        state = ExplorerFixture.press(state, .character("p"))
        #expect(state.query == ExplorerState.Query(row: 2, column: 3))
        state = ExplorerFixture.press(state, .left, .left, .left, .left, .up, .up, .up)
        #expect(state.query == ExplorerState.Query(row: 0, column: 0), "clamped at the grid's corner")
        let corner = try #require(try? MapComputation.compute(state)?.get())
        #expect(corner.methodText == "query from 0,0")
        state = ExplorerFixture.press(state, .right, .down)
        let moved = try #require(try? MapComputation.compute(state)?.get())
        #expect(moved.result.map != corner.result.map)
        // The cursor is drawn on each of the three panels.
        let frame = FrameComposer.frame(state)
        let cursors = frame.cells.filter { $0.character == "+" && $0.reverse }.count
        #expect(cursors == 3)
        // s switches to the features' cosine similarity; Esc leaves the query, then quits.
        state = ExplorerFixture.press(state, .character("s"))
        #expect(try #require(try? MapComputation.compute(state)?.get()).methodText == "similarity from 1,1")
        state = ExplorerFixture.press(state, .escape)
        #expect(state.query == nil && !state.quit)
        state = ExplorerFixture.press(state, .character("g"), .escape)
        #expect(state.layout == .single && !state.quit)
        #expect(ExplorerFixture.press(state, .escape).quit)
    }

    /// The query map is the attention row of the query patch's token, computed here from
    /// the uncompacted trace's own matrices (the explorer's trace is compacted and
    /// recomputes the block).
    @Test func theQueryMapIsThePatchsAttentionRow() throws {
        let full = ExplorerFixture.model.forward(pixels: ExplorerFixture.input(seed: 0), height: 32, width: 48)
        let attention = try #require(full.layers[1].attention)
        let (heads, tokens) = (attention.shape[0], attention.shape[1])
        let token = 1 + 1 * 6 + 2   // [CLS], then row 1, column 2
        var expected = [Double](repeating: 0, count: tokens - 1)
        for h in 0..<heads {
            for j in 1..<tokens { expected[j - 1] += Double(attention.scalars[(h * tokens + token) * tokens + j]) }
        }
        let total = expected.reduce(0, +)
        let compact = full.compacted()
        #expect(compact.layers[1].attention == nil)
        for trace in [full, compact] {
            let map = try MapComputation.compute(trace: trace, specification: .init(name: "cls"), context: .init(), layer: 1,
                                                 head: .mean, isTransformer: true,
                                                 query: ExplorerState.Query(row: 1, column: 2)).get()
            for (got, want) in zip(map.result.map, expected) { #expect(abs(Double(got) - want / total) < 1e-5) }
        }
    }

    @Test func aCyclesTheHeadFusionAndRolloutsOptionsHaveKeys() {
        var state = Self.state()
        state = ExplorerFixture.press(state, .character("a"))
        #expect(state.head == .max)
        state = ExplorerFixture.press(state, .character("a"))
        #expect(state.head == .min)
        #expect(FrameComposer.frame(state).text(row: 34).contains("head min"))
        state = ExplorerFixture.press(state, .character("a"))
        #expect(state.head == .mean)
        state.methodIndex = 2   // rollout
        state = ExplorerFixture.press(state, .character("+"), .character("+"), .character("a"))
        #expect(state.method.parameters["discard"] == 0.8 && state.method.parameters["fusion"] == 1)
        #expect(FrameComposer.frame(state).text(row: 34).contains("rollout:discard=0.8,fusion=max"))
        state = ExplorerFixture.press(state, .character("-"))
        #expect(state.method.parameters["discard"] == 0.5)
    }

    @Test func theMouseOpensTilesPicksPatchesAndTurnsTheLayer() throws {
        var state = Self.state()
        state = Reducer.reduce(state, .mouse(.wheelDown))
        #expect(state.layer == 0)
        state = Reducer.reduce(state, .mouse(.wheelUp))
        #expect(state.layer == 1)
        // 120 columns, side view: panels 39 wide at columns 0, 40 and 80; a 48×32 image
        // fits 39×13 cells, its picture starting at row 2. The map panel's cell (40 + 38,
        // 2 + 12), its bottom-right corner, is the patch (3, 5).
        state = Reducer.reduce(state, .mouse(.click(column: 78, row: 14)))
        #expect(state.query == ExplorerState.Query(row: 3, column: 5))
        state = Reducer.reduce(state, .mouse(.click(column: 0, row: 2)))
        #expect(state.query == ExplorerState.Query(row: 0, column: 0))
        state.query = nil
        state = ExplorerFixture.press(state, .character("g"))
        let tiles = ScreenLayout.tiles(state, imageWidth: 48, imageHeight: 32)
        let head3 = try #require(tiles.first { $0.content == .map(3) })
        state = Reducer.reduce(state, .mouse(.click(column: head3.box.left + 1, row: head3.box.top + 2)))
        #expect(state.layout == .single && state.head == .index(2))
    }

    @Test func theExplorerOpensOnTheMostInformativeMap() {
        let methods = MethodCatalog.defaults
        var facts = ExplorerFixture.facts
        #expect(methods[ExplorerState.firstMethod(methods: methods, model: facts)].name == "cls")
        facts.hasClassToken = false
        #expect(methods[ExplorerState.firstMethod(methods: methods, model: facts)].name == "simpool-np")
        facts.context.simpoolWeights = SimPoolWeights(queryWeight: Tensor(zeros: [2, 2]), keyWeight: Tensor(zeros: [2, 2]),
                                                     normWeight: nil, normBias: nil)
        #expect(methods[ExplorerState.firstMethod(methods: methods, model: facts)].name == "simpool")
    }
}
