import Explorer
import Pooling
import TerminalCanvas
import Testing

/// The explorer driven by actions, checked through its state and its frames.
struct StateMachineTests {
    @Test func headerAndStatusNameImageMethodAndLayer() {
        let frame = FrameComposer.frame(ExplorerFixture.state())
        #expect(frame.text(row: 0).hasPrefix(" simpool-explorer  [1/3]  first.png  48×32"))
        let status = frame.text(row: 34)
        #expect(status.contains("vit_cls │ simpool-np:gamma=1.25 │ layer 2/2 │ head mean │ mass off │ fwd 12 ms"))
        #expect(status.contains("class 3 50%"))
        #expect(frame.text(row: 35).hasPrefix("←/→ image  ↑/↓ layer"))
        #expect(frame.text(row: 1).hasPrefix("image"))
        #expect(frame.text(row: 1).contains("map simpool-np:gamma=1.25"))
        #expect(frame.text(row: 1).contains("overlay"))
    }

    @Test func navigationMethodsLayersAndHeads() {
        var state = ExplorerFixture.state()
        state = ExplorerFixture.press(state, .right)
        #expect(state.index == 1)
        #expect(FrameComposer.frame(state).text(row: 0).contains("[2/3]  second.jpg"))
        state = ExplorerFixture.press(state, .right)            // third: not computed yet
        #expect(FrameComposer.frame(state).allText.contains("computing third.bmp"))
        state = ExplorerFixture.press(state, .character("h"), .tab, .tab)
        #expect(state.index == 1 && state.method.name == "rollout")
        state = ExplorerFixture.press(state, .down)
        #expect(state.layer == 0)
        #expect(FrameComposer.frame(state).text(row: 34).contains("rollout │ layer 1/2"))
        state = ExplorerFixture.press(state, .character("2"), .character("]"), .character("]"))
        #expect(state.method.name == "cls" && state.head == .index(1))
        #expect(FrameComposer.frame(state).text(row: 34).contains("cls │ layer 1/2 │ head 2"))
        state = ExplorerFixture.press(state, .character("["), .character("["), .character("["))
        #expect(state.head == .index(2))   // from head 2 three steps back: head 1, the mean, then head 3

        state = ExplorerFixture.press(state, .character("a"))
        #expect(state.head == .mean)
        state = ExplorerFixture.press(state, .backTab)
        #expect(state.method.name == "simpool-np")
    }

    @Test func headStepsWrapThroughTheMean() {
        var state = ExplorerFixture.state()
        var seen: [HeadSelection] = []
        for _ in 0..<4 {
            state = ExplorerFixture.press(state, .character("]"))
            seen.append(state.head)
        }
        #expect(seen == [.index(0), .index(1), .index(2), .mean])
    }

    @Test func parameterKeysChangeTheMethodsParameter() {
        var state = ExplorerFixture.press(ExplorerFixture.state(), .character("+"), .character("+"))
        #expect(FrameComposer.frame(state).text(row: 34).contains("simpool-np:gamma=1.75"))
        state = ExplorerFixture.press(state, .character("5"), .character("-"))
        #expect(FrameComposer.frame(state).text(row: 34).contains("gem:p=2.5"))
        state = ExplorerFixture.press(state, .character("4"), .character("+"))
        #expect(state.message == "gap has no parameter to change")
        #expect(FrameComposer.frame(state).text(row: 34).hasPrefix(" gap has no parameter to change"))
    }

    @Test func thresholdMassColormapViewAndHelp() {
        var state = ExplorerFixture.press(ExplorerFixture.state(), .character("t"), .character(","), .character(","))
        #expect(state.thresholdOn && state.mass == 0.5)
        #expect(FrameComposer.frame(state).text(row: 34).contains("mass 0.50"))
        state = ExplorerFixture.press(state, .character("c"), .character("v"))
        #expect(state.colormap == .inferno && state.view == .map)
        let single = FrameComposer.frame(state)
        #expect(single.text(row: 1).hasPrefix("map simpool-np"))
        #expect(!single.text(row: 1).contains("overlay"))
        state = ExplorerFixture.press(state, .character("?"))
        #expect(FrameComposer.frame(state).allText.contains("simpool-explorer keys"))
        state = ExplorerFixture.press(state, .character("x"))
        #expect(!state.showHelp && !FrameComposer.frame(state).allText.contains("simpool-explorer keys"))
        state = ExplorerFixture.press(state, .character("q"))
        #expect(state.quit)
    }

    @Test func filterByName() {
        var state = ExplorerFixture.press(ExplorerFixture.state(), .character("/"), .character("t"), .character("h"))
        #expect(state.editingFilter && state.visibleIndices == [2])
        #expect(state.index == 2)
        #expect(FrameComposer.frame(state).text(row: 35).hasPrefix("filter: th"))
        state = ExplorerFixture.press(state, .enter)
        #expect(FrameComposer.frame(state).text(row: 0).contains("[1/1]  third.bmp"))
        state = ExplorerFixture.press(state, .character("/"), .escape)
        #expect(state.visibleIndices == [0, 1, 2])
    }

    @Test func failedImagesAreListedAndSkipped() {
        var state = Reducer.reduce(ExplorerFixture.state(), .failed(index: 1, message: "truncated file"))
        #expect(FrameComposer.frame(state).text(row: 34).contains("failed: second.jpg"))
        state = Reducer.reduce(state, .loaded(index: 2, result: ExplorerFixture.result(seed: 2)))
        state = ExplorerFixture.press(state, .right)
        #expect(state.index == 2)
        #expect(state.wantedForwards.isEmpty)
    }

    @Test func resolutionChangeRequestsNewForwardPasses() {
        var state = ExplorerFixture.state()
        #expect(state.wantedForwards == [])   // current and next are loaded; no previous
        state = ExplorerFixture.press(state, .character("r"))
        #expect(state.resolution == 336)
        #expect(state.wantedForwards == [0, 1])
    }

    @Test func smallTerminalAndResize() {
        var state = Reducer.reduce(ExplorerFixture.state(), .resize(columns: 40, rows: 12))
        let frame = FrameComposer.frame(state)
        #expect(frame.width == 40 && frame.height == 12)
        #expect(frame.text(row: 0).hasPrefix(" simpool-explorer  [1/3]  first.png"))
        #expect(frame.text(row: 10).hasPrefix(" vit_cls │ simpool-np"))
        #expect(frame.cells.contains { $0.character == "▀" })
        state = Reducer.reduce(state, .resize(columns: 30, rows: 10))
        let tooSmall = FrameComposer.frame(state).allText
        #expect(tooSmall.contains("terminal too small") && tooSmall.contains("need 40×12") && tooSmall.contains("have 30×10"))
    }
}

/// Export keys: the reducer records what to write; the driver writes it.
struct ExportKeyTests {
    @Test func exportKeysQueueRequestsForTheDriver() {
        var state = ExplorerFixture.press(ExplorerFixture.state(), .character("e"))
        #expect(state.exportRequests == [ExportRequest(indices: [0], methods: [state.method], layer: 1, head: .mean)])
        #expect(FrameComposer.frame(state).text(row: 34).hasPrefix(" exporting…"))
        state = Reducer.reduce(state, .exportsTaken)
        #expect(state.exportRequests.isEmpty)
        state = ExplorerFixture.press(state, .character("E"))
        #expect(state.exportRequests.first?.methods.count == 5)
        state = Reducer.reduce(state, .exportsTaken)
        state = ExplorerFixture.press(state, .character("x"))
        #expect(state.exportRequests.isEmpty && state.message == "no images marked (space marks the current one)")
        state = ExplorerFixture.press(state, .character(" "), .right, .character(" "), .character("x"))
        #expect(state.exportRequests.last?.indices == [0, 1])
        #expect(FrameComposer.frame(state).text(row: 0).contains("[2/3]  * second.jpg"))
        state = Reducer.reduce(state, .message("exported 3 files to simpool-exports/"))
        #expect(FrameComposer.frame(state).text(row: 34).hasPrefix(" exported 3 files to simpool-exports/"))
    }
}
