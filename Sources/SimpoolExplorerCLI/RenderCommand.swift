import ArgumentParser
import Explorer
import Foundation
import Imaging
import ModelRuntime
import Pooling
import TerminalCanvas

/// `simpool-explorer render IMAGE`: one rendering as text on standard output.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Print one image's map as text (ANSI colours unless --color none).")

    @Argument(help: "An image file.")
    var image: String

    @OptionGroup var options: ViewOptions

    @Option(help: "map, overlay or side (image | map | overlay).")
    var view: ExplorerState.View = .side

    @Option(help: "heads, layers or methods: a grid of every head (and their mean), every layer, or every method.")
    var grid: Grid?

    enum Grid: String, ExpressibleByArgument { case heads, layers, methods }

    @Option(help: "ROW,COL: the map from this patch (0-based on the patch grid): its attention, or its features' similarity for models without attention.")
    var query: String?

    @Option(help: "Width in columns (default: $COLUMNS, else 80).")
    var width: Int?

    func validate() throws {
        if let width, width < 12 { throw ValidationError("--width must be at least 12") }
        if let query, ExportCommand.parseQuery(query) == nil { throw ValidationError("--query must be ROW,COL (0-based patch row and column)") }
    }

    func run() throws {
        let (loaded, facts) = try options.loadModel()
        let columns = width ?? Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
        let mode = options.colorMode(terminfoColors: nil)
        var methods = [try options.specification(for: facts)]
        if grid == .methods {
            methods = MethodCatalog.defaults(for: facts.context)
        }
        var state = ExplorerState(paths: [image], model: facts, columns: columns, rows: 1, colorMode: mode,
                                  symbols: options.symbols(for: mode), methods: methods)
        state.methodIndex = 0
        if let grid { state.layout = ExplorerState.Layout(rawValue: grid.rawValue)! }
        state.layer = try options.layerIndex(count: facts.layerCount)
        state.head = try options.headSelection()
        state.colormap = options.colormap
        state.view = view
        if let mass = options.mass {
            state.thresholdOn = true
            state.mass = mass
        }
        let result: ImageResult
        do {
            result = try ImageLoader(model: loaded, labels: loaded.classNames(imagenet: ImageNetLabels.bundled())).load(path: image, resolution: options.resolution)
        } catch {
            StandardError.write(String(describing: error))
            throw ExitCode(ExitStatus.inputFailed)
        }
        if let warning = result.decodeWarning { StandardError.write("\(image): \(warning)") }
        state.entries[0].status = .ready(result)
        if let query = query.flatMap(ExportCommand.parseQuery) {
            let final = result.trace.final
            guard query.row < final.gridHeight, query.column < final.gridWidth else {
                StandardError.write("\(image): query \(query.row),\(query.column) is outside the \(final.gridHeight)×\(final.gridWidth) patch grid")
                throw ExitCode(ExitStatus.inputFailed)
            }
            state.query = ExplorerState.Query(row: query.row, column: query.column, similarity: !facts.isTransformer)
        }
        let text: String
        do {
            text = try StillRenderer.render(state, pixels: options.pixelStill())
        } catch let error as StillRenderer.Failure {
            StandardError.write("\(image): \(error.message)")
            throw ExitCode(ExitStatus.inputFailed)
        }
        print(text, terminator: "")
    }
}
