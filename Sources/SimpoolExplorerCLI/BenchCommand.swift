import ArgumentParser
import Dispatch
import Explorer
import Foundation
import Imaging
import ModelRuntime
import Pooling
import Tensors

/// `simpool-explorer bench`: median timings of every stage on this machine.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time each stage (load, preprocess, forward) on this machine.")

    @OptionGroup var modelOptions: ModelOptions
    var model: String { modelOptions.model }

    @Option(help: "Shorter image side fed to the model.")
    var resolution = 224

    @Option(help: "Thread counts to time the forward pass with (repeat the option for several).")
    var threads: [Int] = [1, 2]

    @Option(help: "Timed repetitions per measurement (the median is reported).")
    var repeats = 10

    @Option(help: "Image to run (default: a bundled sample).")
    var image: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Time only the forward pass (for interleaved comparisons).")
    var forwardOnly = false

    @Flag(help: "Keep the image's aspect ratio (as the explorer does) instead of a square resolution×resolution input, the shape other engines are timed at.")
    var keepAspect = false

    func validate() throws {
        guard resolution > 0, repeats > 0, threads.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--resolution, --repeats and --threads must be positive")
        }
    }

    func run() throws {
        let imagePath = try image ?? defaultImage()
        let loaded = try modelOptions.load(resolution: resolution)
        let decoded = try ImageDecoder.decode(path: imagePath)
        let input = keepAspect ? loaded.preprocessor.prepare(decoded) : Self.square(decoded, loaded: loaded, side: resolution)
        var forward: [String: Double] = [:]
        for count in threads {
            ComputeThreads.set(count)
            // Two warm-up passes, as the ONNX Runtime side of the benchmarks runs: the first
            // pass after a thread count change was measured 10–30% slower.
            for _ in 0..<2 { _ = loaded.backbone.forward(pixels: input.pixels, height: input.height, width: input.width) }
            forward[String(count)] = median(repeats: repeats) {
                _ = loaded.backbone.forward(pixels: input.pixels, height: input.height, width: input.width)
            }
        }
        ComputeThreads.set(1)
        if forwardOnly {
            let object: [String: Any] = ["model": loaded.name, "input": [input.width, input.height], "forward_ms": forward,
                                         "cpu": CPUFeatures.description]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        let loadMs = median(repeats: max(3, repeats / 2)) { _ = try? LoadedModel.load(model, resolution: resolution, numHeads: modelOptions.numHeads) }
        let preprocessMs = median(repeats: repeats) {
            _ = loaded.preprocessor.prepare((try? ImageDecoder.decode(path: imagePath)) ?? decoded)
        }

        // Every method on the last layer of this image's trace (16×16×384 for the default model at 224).
        let trace = loaded.backbone.forward(pixels: input.pixels, height: input.height, width: input.width)
        let isTransformer = loaded.backbone.summary.family == .vit
        let poolingInput = PoolingInput(trace: trace, layer: trace.layers.count - 1, isTransformer: isTransformer)
        let context = loaded.poolingContext
        // Pooling at each thread count, as for the forward pass: the explorer pools with all
        // of them, a batch export running several images at once with one each. `pool_ms`
        // stays the one-thread figures.
        var pool: [String: [String: Double]] = [:]
        for count in Set(threads + [1]) {
            ComputeThreads.set(count)
            pool[String(count)] = try poolingTimes(poolingInput, context: context)
        }
        ComputeThreads.set(1)
        let layerShape = [poolingInput.gridHeight ?? 0, poolingInput.gridWidth ?? 0, poolingInput.channels]

        // One full 200×60 explorer frame (side view, truecolor half blocks): pooling,
        // panel resampling and cell composition, as each key press costs.
        let facts = ExplorerState.ModelFacts(name: loaded.name, architecture: loaded.backbone.summary.name,
                                             layerCount: loaded.backbone.summary.layerCount, heads: loaded.backbone.summary.heads,
                                             isTransformer: isTransformer, context: context)
        var state = ExplorerState(paths: [imagePath], model: facts, columns: 200, rows: 60, colorMode: .truecolor, symbols: .half,
                                  methods: [.init(name: "simpool-np")])
        state.entries[0].status = .ready(ImageResult(image: ImageLoader.displayCopy(decoded.rgb()), trace: trace, resolution: resolution,
                                                     inputWidth: input.width, inputHeight: input.height,
                                                     forwardMilliseconds: 0, topLabel: nil))
        let frameMs = median(repeats: repeats) { _ = FrameComposer.frame(state) }
        // The same frame in sextants (the default in 24-bit colour on a UTF-8 locale), whose
        // cells each fit a glyph and two colours.
        var sextantState = state
        sextantState.symbols = .sextant
        let sextantFrameMs = median(repeats: repeats) { _ = FrameComposer.frame(sextantState) }

        // The grids at 200×60 on the trace the explorer keeps (compacted): every head, every
        // layer and every method of the default method list, and the heads grid of a patch
        // query, whose block attention is computed again once and then memoised.
        var gridState = state
        gridState.methods = MethodCatalog.defaults(for: context)
        gridState.methodIndex = gridState.methods.firstIndex { $0.name == "cls" } ?? 0
        gridState.entries[0].status = .ready(ImageResult(image: ImageLoader.displayCopy(decoded.rgb()), trace: trace.compacted(),
                                                         resolution: resolution, inputWidth: input.width,
                                                         inputHeight: input.height, forwardMilliseconds: 0, topLabel: nil))
        var gridMs: [String: Double] = [:]
        for layout in [ExplorerState.Layout.heads, .layers, .methods] {
            gridState.layout = layout
            gridMs[layout.rawValue] = median(repeats: repeats) { _ = FrameComposer.frame(gridState) }
        }
        if isTransformer, let grid = gridState.patchGrid {
            gridState.query = ExplorerState.Query(row: grid.rows / 2, column: grid.columns / 2)
            for layout in [ExplorerState.Layout.heads, .layers] {
                gridState.layout = layout
                gridMs["query " + layout.rawValue] = median(repeats: repeats) { _ = FrameComposer.frame(gridState) }
            }
        }

        if json {
            let object: [String: Any] = [
                "model": loaded.name, "architecture": loaded.backbone.summary.name,
                "resolution": resolution, "input": [input.width, input.height],
                "load_ms": loadMs, "preprocess_ms": preprocessMs, "forward_ms": forward,
                "pool_ms": pool["1"]!, "pool_ms_by_threads": pool.filter { threads.contains(Int($0.key)!) },
                "pool_layer": layerShape, "frame_ms": frameMs, "sextant_frame_ms": sextantFrameMs, "grid_frame_ms": gridMs, "cpu": CPUFeatures.description,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("model:        \(loaded.name) (\(loaded.backbone.summary.name)), input \(input.width)×\(input.height)"
                  + " (\(input.width / max(1, loaded.preprocessor.patchSize ?? 1))×\(input.height / max(1, loaded.preprocessor.patchSize ?? 1)) patches)")
            print("cpu:          \(CPUFeatures.description)")
            print("load:         \(format(loadMs)) ms (median)")
            print("decode+prep:  \(format(preprocessMs)) ms")
            for count in threads {
                print("forward:      \(format(forward[String(count)]!)) ms on \(count) thread\(count == 1 ? "" : "s")")
            }
            let shape = layerShape.map(String.init).joined(separator: "×")
            print("pooling on a \(shape) layer (ms, on " + threads.map { "\($0) thread\($0 == 1 ? "" : "s")" }.joined(separator: " / ") + "):")
            for name in pool[String(threads[0])]!.keys.sorted() {
                let times = threads.map { String(format: "%.3f", pool[String($0)]![name]!) }
                print("  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(times.joined(separator: " / "))")
            }
            print("frame:        \(format(frameMs)) ms for a 200×60 side-by-side frame")
            print("frame:        \(format(sextantFrameMs)) ms for the same frame in sextants")
            for name in gridMs.keys.sorted() {
                print("grid frame:   \(format(gridMs[name]!)) ms for a 200×60 grid of \(name)")
            }
        }
    }

    /// Median time of every method on one layer, by method name.
    private func poolingTimes(_ poolingInput: PoolingInput, context: MethodCatalog.Context) throws -> [String: Double] {
        var pool: [String: Double] = [:]
        for specification in try MethodCatalog.parse("all") {
            guard let method = try? MethodCatalog.make(specification, context: context),
                  (try? method.pool(poolingInput)) != nil else { continue }
            if method is GMPPooling {
                // GMP keeps the layer's Gram matrix for λ changes: time the first use of the
                // layer (cache cleared) and a λ change (cache warm) apart.
                pool[method.name] = median(repeats: repeats) {
                    GramCache.shared.clear()
                    _ = try? method.pool(poolingInput)
                }
                pool[method.name + " (λ changed)"] = median(repeats: repeats) { _ = try? method.pool(poolingInput) }
            } else {
                pool[method.name] = median(repeats: repeats) { _ = try? method.pool(poolingInput) }
            }
        }
        return pool
    }

    /// The photo resized to side×side (rounded to the patch size) and normalised: the input
    /// ONNX Runtime and PyTorch benchmarks use, so the numbers can be set side by side.
    static func square(_ image: PixelImage, loaded: LoadedModel, side: Int) -> (pixels: [Float], width: Int, height: Int) {
        let patch = loaded.preprocessor.patchSize ?? 1
        let size = max(patch, (side / patch) * patch)
        let resized = Resampler.resize(image.rgb(), width: size, height: size, filter: .bicubic)
        return (loaded.preprocessor.normalization.chw(resized), size, size)
    }

    private func defaultImage() throws -> String {
        guard let samples = BundledModels.samplesDirectory else {
            throw ValidationError("no bundled samples found; pass --image")
        }
        return samples.appendingPathComponent("images/chelsea.png").path
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Median wall time in milliseconds.
    private func median(repeats: Int, _ body: () -> Void) -> Double {
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return samples.sorted()[samples.count / 2]
    }
}
