import ArgumentParser
import Explorer
import Foundation
import Imaging
import ModelRuntime
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

    @Option(help: "Width in columns (default: $COLUMNS, else 80).")
    var width: Int?

    func validate() throws {
        if let width, width < 12 { throw ValidationError("--width must be at least 12") }
    }

    func run() throws {
        let (loaded, facts) = try options.loadModel()
        let columns = width ?? Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
        let mode = options.colorMode(terminfoColors: nil)
        var state = ExplorerState(paths: [image], model: facts, columns: columns, rows: 1, colorMode: mode,
                                  symbols: options.symbols, methods: [try options.specification(for: facts)])
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
        state.entries[0].status = .ready(result)
        let text: String
        do {
            text = try StillRenderer.render(state)
        } catch let error as StillRenderer.Failure {
            StandardError.write("\(image): \(error.message)")
            throw ExitCode(ExitStatus.inputFailed)
        }
        print(text, terminator: "")
    }
}
