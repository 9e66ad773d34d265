import Explorer
import Imaging
import Testing
import TerminalCanvas

/// The explorer keeps forward passes only near the image on screen, and its panel cache
/// never shows one image's pixels for another.
struct MemoryWindowTests {
    @Test func resultsFarFromTheCurrentImageAreDropped() {
        let paths = (0..<8).map { "/data/\($0).png" }
        var state = ExplorerState(paths: paths, model: ExplorerFixture.facts, columns: 120, rows: 36,
                                  colorMode: .truecolor, symbols: .half, methods: [.init(name: "gap")])
        let result = ExplorerFixture.result(seed: 0)
        for i in 0..<3 { state = Reducer.reduce(state, .loaded(index: i, result: result)) }
        // Image 0 on screen: it and its neighbour 1 are kept, 2 is already outside.
        #expect(state.entries[0].result != nil && state.entries[1].result != nil && state.entries[2].result == nil)
        state = ExplorerFixture.press(state, .right)
        state = Reducer.reduce(state, .loaded(index: 2, result: result))
        #expect((0..<3).allSatisfy { state.entries[$0].result != nil })
        // Four more steps: image 5 is current, the window is 4…6; 0, 1 and 2 are released.
        for _ in 0..<4 { state = ExplorerFixture.press(state, .right) }
        #expect(state.index == 5)
        #expect((0..<3).allSatisfy { state.entries[$0].result == nil })
        #expect(state.wantedForwards == [5, 6, 4])
        // A late result for a far image is not kept either.
        state = Reducer.reduce(state, .loaded(index: 0, result: result))
        #expect(state.entries[0].result == nil)
        state = Reducer.reduce(state, .loaded(index: 3, result: result))
        #expect(state.entries[3].result == nil)
        state = Reducer.reduce(state, .loaded(index: 4, result: result))
        #expect(state.entries[4].result != nil)
        // Coming back asks for the forward pass again.
        for _ in 0..<5 { state = ExplorerFixture.press(state, .left) }
        #expect(state.wantedForwards.first == 0)
    }

    @Test func panelCacheTellsSameSizedImagesApart() {
        let painter = PanelPainter(rasterizer: Rasterizer(mode: .truecolor, symbols: .half))
        let first = ExplorerFixture.result(seed: 0).image
        let second = ExplorerFixture.result(seed: 1).image
        #expect(first.width == second.width && first.pixels != second.pixels)
        let a = painter.fitted(first, columns: 30, rows: 10).pixels
        let b = painter.fitted(second, columns: 30, rows: 10).pixels
        let again = painter.fitted(first, columns: 30, rows: 10).pixels
        #expect(a != b)
        #expect(again == a)
        #expect(a == Resampler.resize(first.rgb(), width: 30, height: painter.fit(imageWidth: 48, imageHeight: 32, columns: 30,
                                                                                  rows: 10).pixelRows, filter: .bilinear).rgbPixels)
    }
}
