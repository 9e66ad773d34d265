import Backbones
import Checkpoints
import Explorer
import Imaging
import Pooling
import TerminalCanvas
import TestSupport

/// A small real setup: the timm ViT fixture (2 blocks, 3 heads, patch 8) run on synthetic
/// images, so frames show real maps without the cost of the default model.
enum ExplorerFixture {
    static let model = try! ModelLoader.load(try! Checkpoint.open(path: Fixtures.path("backbones/vit_cls.safetensors")))

    static var facts: ExplorerState.ModelFacts {
        ExplorerState.ModelFacts(name: "vit_cls", architecture: model.summary.name, layerCount: model.summary.layerCount,
                                 heads: model.summary.heads, isTransformer: true, context: .init())
    }

    /// The model input of `image(seed:)`.
    static func input(seed: Int) -> [Float] { Normalization.imagenet.chw(image(seed: seed)) }

    /// A 48×32 gradient with a bright square, and its trace.
    static func result(seed: Int) -> ImageResult {
        let image = image(seed: seed)
        let input = Normalization.imagenet.chw(image)
        let trace = model.forward(pixels: input, height: 32, width: 48).compacted()
        return ImageResult(image: image, trace: trace, resolution: 224, inputWidth: 48, inputHeight: 32,
                           forwardMilliseconds: 12, topLabel: ("class 3", 0.5))
    }

    static func image(seed: Int) -> PixelImage {
        var pixels = [UInt8](repeating: 0, count: 48 * 32 * 3)
        for y in 0..<32 {
            for x in 0..<48 {
                let bright = (x / 8 == 2 + seed % 3) && (y / 8 == 1)
                pixels[(y * 48 + x) * 3] = bright ? 250 : UInt8(x * 5)
                pixels[(y * 48 + x) * 3 + 1] = bright ? 240 : UInt8(y * 7)
                pixels[(y * 48 + x) * 3 + 2] = UInt8((x + y + seed * 40) % 256)
            }
        }
        return PixelImage(width: 48, height: 32, channels: 3, pixels: pixels)
    }

    static func state(columns: Int = 120, rows: Int = 36, mode: ColorMode = .truecolor, symbols: SymbolSet = .half) -> ExplorerState {
        var state = ExplorerState(paths: ["/data/first.png", "/data/second.jpg", "/data/third.bmp"], model: facts,
                                  columns: columns, rows: rows, colorMode: mode, symbols: symbols,
                                  methods: ["simpool-np", "cls", "rollout", "gap", "gem"].map { .init(name: $0) })
        // The suites start from the first method of the list (the opening choice has its own test).
        state.methodIndex = 0
        state = Reducer.reduce(state, .loaded(index: 0, result: result(seed: 0)))
        state = Reducer.reduce(state, .loaded(index: 1, result: result(seed: 1)))
        return state
    }

    static func press(_ state: ExplorerState, _ keys: Key...) -> ExplorerState {
        keys.reduce(state) { Reducer.reduce($0, .key($1)) }
    }
}

extension CellGrid {
    var lines: [String] { (0..<height).map { text(row: $0) } }
    var allText: String { lines.joined(separator: "\n") }
}
