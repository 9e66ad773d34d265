import Checkpoints
import Dispatch
import Foundation
import Imaging
import Pooling
import TerminalCanvas

/// Writes the export files of one image: every method, layer and head asked for, in every
/// format. Safe to run from several threads; reports problems instead of printing them.
public struct MapExporter: @unchecked Sendable {
    public struct Outcome: Sendable {
        public var written = 0
        public var writtenPaths: [String] = []
        public var skipped: [String] = []
        /// One line per problem (`path: what is wrong`).
        public var problems: [String] = []
        /// Lines that do not fail the image (a decoder's warning about the file).
        public var warnings: [String] = []
        public var failure: String? { problems.first }
    }

    let loader: ImageLoader
    let version: String
    let modelName: String
    let architecture: String
    let context: MethodCatalog.Context
    let isTransformer: Bool
    let specifications: [MethodCatalog.Specification]
    let layers: [Int]
    let heads: [HeadSelection]
    let formats: [ExportPlan.Format]
    let imageSize: Bool
    let mass: Float?
    let resolution: Int
    let colormap: Colormap
    let force: Bool
    /// `--query ROW,COL`: maps from that patch instead of the method's own.
    let query: ExplorerState.Query?
    public let out: String

    public init(loader: ImageLoader, version: String, modelName: String, architecture: String, context: MethodCatalog.Context,
                isTransformer: Bool, specifications: [MethodCatalog.Specification], layers: [Int], heads: [HeadSelection],
                formats: [ExportPlan.Format], imageSize: Bool, mass: Float?, resolution: Int, colormap: Colormap,
                force: Bool, out: String, query: ExplorerState.Query? = nil) {
        self.query = query
        self.loader = loader
        self.version = version
        self.modelName = modelName
        self.architecture = architecture
        self.context = context
        self.isTransformer = isTransformer
        self.specifications = specifications
        self.layers = layers
        self.heads = heads
        self.formats = formats
        self.imageSize = imageSize
        self.mass = mass
        self.resolution = resolution
        self.colormap = colormap
        self.force = force
        self.out = out
    }

    /// An image read and run through the model, ready to be written.
    public struct Prepared: @unchecked Sendable {
        let path: String
        let result: ImageResult
        let original: PixelImage
        let start: UInt64
    }

    /// `computed`: the image's result when the caller already has it (the explorer does).
    public func export(_ path: String, computed: ImageResult? = nil) -> Outcome {
        switch prepare(path, computed: computed) {
        case .success(let prepared): return write(prepared)
        case .failure(let failed): return failed.outcome
        }
    }

    public struct PrepareFailure: Error {
        public let outcome: Outcome
    }

    /// The first half of an export: decode and forward pass. Batch exports run it for the
    /// next image while `write` pools and writes the previous one.
    public func prepare(_ path: String, computed: ImageResult? = nil) -> Result<Prepared, PrepareFailure> {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            if let computed {
                // The explorer keeps a display copy; the full-size image is read again only
                // for what needs it: the overlay, image-sized maps and the JSON's image size.
                let original = formats.contains(.overlay) || imageSize || formats.contains(.json)
                    ? try ImageDecoder.decode(path: path).rgb() : computed.image
                return .success(Prepared(path: path, result: computed, original: original, start: start))
            }
            let original = try ImageDecoder.decode(path: path).rgb()
            let result = try loader.run(original, resolution: resolution)
            return .success(Prepared(path: path, result: result, original: original, start: start))
        } catch {
            var outcome = Outcome()
            outcome.problems.append(String(describing: error))
            return .failure(PrepareFailure(outcome: outcome))
        }
    }

    /// The second half: every method, layer, head and format of one prepared image.
    public func write(_ prepared: Prepared) -> Outcome {
        var outcome = Outcome()
        if let warning = prepared.original.warning { outcome.warnings.append("\(prepared.path): \(warning)") }
        let (path, result, original, start) = (prepared.path, prepared.result, prepared.original, prepared.start)
        let size = imageSize ? (width: original.width, height: original.height) : nil
        let grid = (rows: result.trace.final.gridHeight, columns: result.trace.final.gridWidth)
        if let query, query.row >= grid.rows || query.column >= grid.columns {
            outcome.problems.append("\(path): query \(query.row),\(query.column) is outside the \(grid.rows)×\(grid.columns) patch grid (rows and columns count from 0)")
            return outcome
        }
        // Methods that resolve to the same one (simpool without a learned head is
        // simpool-np) are written once.
        var done = Set<String>()
        for specification in specifications {
            for layer in layers {
                let perHead = specification.name == "cls" || (query != nil && isTransformer && query?.similarity != true)
                for head in (perHead ? heads : [.mean]) {
                    let computed = MapComputation.compute(trace: result.trace, specification: specification, context: context,
                                                          layer: layer, head: head, isTransformer: isTransformer, query: query)
                    guard case .success(let map) = computed else {
                        if case .failure(let error) = computed { outcome.problems.append("\(path): \(error.description)") }
                        continue
                    }
                    guard done.insert("\(map.fileMethodText)|\(layer)|\(head)").inserted else { continue }
                    for format in formats {
                        let name = ExportPlan.fileName(imagePath: path, method: map.fileMethodText, layer: layer, head: head,
                                                       format: format, query: query)
                        let target = (out as NSString).appendingPathComponent(name)
                        do {
                            let bytes = try self.bytes(format, map: map, specification: specification, result: result,
                                                       original: original, path: path, layer: layer, head: head, size: size,
                                                       start: start)
                            switch try AtomicFile.write(bytes, to: target, overwrite: force) {
                            case .written:
                                outcome.written += 1
                                outcome.writtenPaths.append(target)
                            case .skippedExisting: outcome.skipped.append(target)
                            }
                        } catch {
                            outcome.problems.append(String(describing: error))
                        }
                    }
                }
            }
        }
        return outcome
    }

    private func bytes(_ format: ExportPlan.Format, map: MapComputation, specification: MethodCatalog.Specification,
                       result: ImageResult, original: PixelImage, path: String,
                       layer: Int, head: HeadSelection, size: (width: Int, height: Int)?, start: UInt64) throws -> [UInt8] {
        let thresholded = thresholdedMap(map)
        switch format {
        case .png: return try MapFiles.png(thresholded, size: size, colormap: colormap)
        case .overlay: return try MapFiles.overlay(thresholded, image: original, colormap: colormap, opacity: 0.5)
        case .npy: return MapFiles.npy(map, size: size)
        case .csv: return MapFiles.csv(map, size: size)
        case .ansi, .kitty, .sixel:
            var state = ExplorerState(paths: [path], model: .init(name: ExplorerState.ModelFacts.displayName(modelName), architecture: architecture,
                                                                  layerCount: result.trace.layers.count, heads: nil,
                                                                  isTransformer: isTransformer, context: context),
                                      columns: 80, rows: 1, colorMode: .truecolor, symbols: .half,
                                      methods: [query == nil ? try MethodCatalog.parse(map.methodText)[0] : specification])
            state.entries[0].status = .ready(result)
            state.query = query
            state.layer = layer
            state.head = head
            state.colormap = colormap
            if let mass { state.thresholdOn = true; state.mass = mass }
            let pixels: PixelStill? = format == .kitty ? PixelStill(pixelProtocol: .kitty)
                : format == .sixel ? PixelStill(pixelProtocol: .sixel) : nil
            return Array(try StillRenderer.render(state, pixels: pixels).utf8)
        case .json:
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let object: [String: Any] = [
                "image": path, "model": modelName, "architecture": architecture,
                "method": map.methodText, "method_name": map.methodText.split(separator: ":").first.map(String.init) ?? map.methodText,
                "layer": layer + 1, "head": ExportPlan.headTag(head), "grid": [map.gridHeight, map.gridWidth],
                "input_size": [result.inputWidth, result.inputHeight], "image_size": [original.width, original.height],
                "forward_ms": result.forwardMilliseconds, "pool_ms": map.milliseconds, "elapsed_ms": elapsed,
                "mass": mass.map { Double($0) } as Any, "program": "simpool-explorer", "version": version,
                "query": query.map { [$0.row, $0.column] } as Any,
            ]
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) + [0x0A]
        }
    }

    /// With --mass, the patches outside the kept mass are zeroed for the pictures.
    private func thresholdedMap(_ map: MapComputation) -> MapComputation {
        guard let mass else { return map }
        let kept = MapProcessing.threshold(map.result.map, mass: mass)
        let values = zip(map.result.map, kept).map { $1 ? $0 : 0 }
        return MapComputation(result: PoolingResult(pooled: map.result.pooled, map: values), gridHeight: map.gridHeight,
                              gridWidth: map.gridWidth, methodText: map.methodText, milliseconds: map.milliseconds)
    }
}

