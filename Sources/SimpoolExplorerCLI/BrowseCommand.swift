import ArgumentParser
import Explorer
import Foundation
import ModelRuntime

/// What the terminal driver needs to start; the driver itself lives in the executable,
/// the only place that talks to the terminal.
public struct BrowseConfiguration: Sendable {
    public let paths: [String]
    public let problems: [String]
    public let loader: ImageLoader
    public let model: ExplorerState.ModelFacts
    public let exportDirectory: String
    public let version: String
    /// Quit as soon as the first image's map is on screen (start-up benchmarks).
    public let exitAfterFirstFrame: Bool
    /// `--color` when given: it wins over what the terminal announces.
    public let colorFlag: ColorMode?
    /// The graphics protocol the panels are drawn in, or nil for cells (`--pixels`).
    public let pixelProtocol: PixelProtocol?
    public let makeState: @Sendable (_ columns: Int, _ rows: Int, _ terminfoColors: Int?) -> ExplorerState
}

/// `simpool-explorer [browse] [PATH…]`: the interactive explorer.
public struct BrowseCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "browse", abstract: "Browse images and their attention maps (the default command).")

    /// Runs the terminal session and returns the exit status; set by the executable.
    nonisolated(unsafe) public static var driver: ((BrowseConfiguration) -> Int32)?

    @Argument(help: "Images, folders or glob patterns (default: the bundled samples).")
    var paths: [String] = []

    @OptionGroup var options: ViewOptions

    @Option(help: "Where e, E and x write their files.")
    var out = "simpool-exports"

    @Flag(help: .hidden)
    var exitAfterFirstFrame = false

    public init() {}

    public func run() throws {
        var requested = paths
        if requested.isEmpty {
            guard let samples = BundledModels.samplesDirectory else {
                StandardError.write("no bundled samples found (Samples/ beside the program); give image paths")
                throw ExitCode(ExitStatus.inputFailed)
            }
            requested = [samples.appendingPathComponent("images").path]
        }
        let expansion = ImageList.expand(requested)
        for problem in expansion.problems { StandardError.write(problem) }
        guard !expansion.images.isEmpty else {
            StandardError.write("no images to show")
            throw ExitCode(ExitStatus.inputFailed)
        }
        let (loaded, facts) = try options.loadModel()
        var specification = try options.specification(for: facts)
        let layer = try options.layerIndex(count: facts.layerCount)
        let head = try options.headSelection()
        let options = self.options
        var methods = MethodCatalog.defaults
        if facts.context.attentionPoolWeights == nil { methods.removeAll { $0.name == "attnpool" } }
        if facts.context.simpoolWeights == nil {
            // Without a learned head "simpool" is "simpool-np": keep one of the two.
            methods.removeAll { $0.name == "simpool" }
            if specification.name == "simpool" {
                specification = .init(name: "simpool-np", parameters: specification.parameters)
            }
        }
        let methodIndex: Int
        if let existing = methods.firstIndex(where: { $0.name == specification.name }) {
            methods[existing] = specification
            methodIndex = existing
        } else {
            methods.insert(specification, at: 0)
            methodIndex = 0
        }
        let images = expansion.images
        let cycle = methods
        let out = self.out
        // The terminal is asked what it can draw, and its cell size, before ncurses owns it.
        let pixelProtocol = options.pixelProtocol()
        if let pixelProtocol { _ = PixelStill.sized(pixelProtocol) }
        let configuration = BrowseConfiguration(
            paths: images, problems: expansion.problems,
            loader: ImageLoader(model: loaded, labels: loaded.classNames(imagenet: ImageNetLabels.bundled())),
            model: facts, exportDirectory: out, version: SimpoolExplorer.version,
            exitAfterFirstFrame: exitAfterFirstFrame, colorFlag: options.color, pixelProtocol: pixelProtocol,
            makeState: { columns, rows, terminfoColors in
                let mode = options.colorMode(terminfoColors: terminfoColors)
                var state = ExplorerState(paths: images, model: facts, columns: columns, rows: rows,
                                          colorMode: mode, symbols: options.symbols(for: mode), methods: cycle)
                state.methodIndex = methodIndex
                state.layer = layer
                state.head = head
                state.colormap = options.colormap
                state.resolution = options.resolution
                state.exportDirectory = out
                if let mass = options.mass {
                    state.thresholdOn = true
                    state.mass = mass
                }
                return state
            })
        guard let driver = Self.driver else {
            StandardError.write("this build has no terminal driver")
            throw ExitCode(ExitStatus.inputFailed)
        }
        let status = driver(configuration)
        if status != 0 { throw ExitCode(status) }
    }
}

import Pooling
import TerminalCanvas
