import ArgumentParser
import Explorer
import Foundation
import ModelRuntime
import Pooling
import TerminalCanvas

/// The options `render` and `browse` share: which model, method, layer and head, and how
/// to draw.
struct ViewOptions: ParsableArguments {
    @OptionGroup var modelOptions: ModelOptions
    var model: String { modelOptions.model }

    @Option(help: "Pooling method with parameters, e.g. simpool, cls, gem:p=3, rollout:discard=0.9,fusion=max (see `methods`; default: the learned simpool when the checkpoint has its head, else cls for transformers with [CLS], else simpool-np).")
    var method: String?

    @Option(help: "Layer: a 1-based block (ViT) or stage (CNN) index, or last.")
    var layer = "last"

    @Option(help: "Attention head: a 1-based index, or how to fuse the heads: mean, max or min.")
    var head = "mean"

    @Option(help: "γ for the SimPool methods.")
    var gamma: Double?

    @Option(help: "Threshold the map at this attention mass (0–1], as DINO does.")
    var mass: Float?

    @Option(help: "Shorter image side fed to the model.")
    var resolution = 224

    @Option(help: "truecolor, 256, 16 or none (default: from NO_COLOR, COLORTERM and the terminal).")
    var color: ColorMode?

    @Option(name: .customLong("symbols"),
            help: "half (1×2 pixels per cell), quad (2×2), sextant (2×3) or ascii (default: sextant in 24-bit colour on a UTF-8 locale, else half).")
    var symbolsFlag: SymbolSet?

    /// The symbols asked for, or the automatic choice for this colour mode and locale.
    func symbols(for mode: ColorMode) -> SymbolSet {
        symbolsFlag ?? SymbolSet.automatic(mode: mode, environment: ProcessInfo.processInfo.environment)
    }

    @Option(help: "auto, kitty, sixel, iterm or off: draw the panels as real pixels in that terminal graphics protocol (auto: when standard output is a terminal that says it speaks one, or tmux whose client is kitty and lets pictures pass; the help stays text).")
    var pixels: PixelChoice = .auto

    enum PixelChoice: String, CaseIterable, ExpressibleByArgument { case auto, kitty, sixel, iterm, off }

    /// The protocol chosen, with the terminal's cell size in pixels where it reports one.
    func pixelStill() -> PixelStill? {
        guard let chosen = pixelProtocol() else { return nil }
        return PixelStill.sized(chosen)
    }

    /// `--pixels` resolved: for auto, what the terminal's environment says for certain,
    /// else (inside tmux) what tmux says of its client, else what the terminal answers;
    /// nothing when standard output is not a terminal. Kitty inside tmux goes through
    /// passthrough, as placeholders; where tmux does not let it pass, one line says so and
    /// cells are drawn.
    func pixelProtocol() -> PixelProtocol? {
        let environment = ProcessInfo.processInfo.environment
        let insideTmux = environment["TMUX"] != nil
        switch pixels {
        case .off: return nil
        case .auto:
            guard isatty(STDOUT_FILENO) != 0 else { return nil }
            if let named = PixelProtocol.detect(environment: environment) { return named }
            if insideTmux, let tmux = TerminalProbe.tmux(),
               TmuxPassthrough.passesKitty(clientTerminal: tmux.clientTerminal, passthrough: tmux.passthrough) {
                return .kittyInTmux
            }
            return TerminalProbe.ask()
        case .kitty:
            guard insideTmux else { return .kitty }
            if let tmux = TerminalProbe.tmux(), TmuxPassthrough.allowsPassthrough(tmux.passthrough) { return .kittyInTmux }
            StandardError.write("--pixels kitty: tmux does not pass kitty's pictures on (its allow-passthrough is off);"
                                + " run `tmux set -g allow-passthrough on`, or use --pixels sixel; drawing cells")
            return nil
        case .sixel: return .sixel
        case .iterm: return .iterm
        }
    }

    @Option(help: "viridis, inferno, magma, turbo or gray.")
    var colormap: Colormap = .viridis

    func validate() throws {
        guard resolution > 0 else { throw ValidationError("--resolution must be positive") }
        if let mass, !(mass > 0 && mass <= 1) { throw ValidationError("--mass must be in (0, 1]") }
        if let gamma, gamma <= 0 { throw ValidationError("--gamma must be positive") }
        _ = try parsedSpecification()
        _ = try headSelection()
        if layer != "last" && Int(layer).map({ $0 < 1 }) ?? true { throw ValidationError("--layer must be a positive number or last") }
    }

    /// The method given, or nil for the model's default.
    func parsedSpecification() throws -> MethodCatalog.Specification? {
        guard let method else { return nil }
        do {
            var parsed = try MethodCatalog.parse(method)
            guard parsed.count == 1 else { throw ValidationError("--method takes one method here") }
            if let gamma, parsed[0].name.hasPrefix("simpool"), parsed[0].parameters["gamma"] == nil {
                parsed[0].parameters["gamma"] = gamma
            }
            return parsed[0]
        } catch let error as PoolingError {
            throw ValidationError(error.description)
        }
    }

    /// The method given, else the one the explorer opens on for this model.
    func specification(for facts: ExplorerState.ModelFacts) throws -> MethodCatalog.Specification {
        if let given = try parsedSpecification() { return given }
        let defaults = MethodCatalog.defaults
        var chosen = defaults[ExplorerState.firstMethod(methods: defaults, model: facts)]
        if let gamma, chosen.name.hasPrefix("simpool") { chosen.parameters["gamma"] = gamma }
        return chosen
    }

    func headSelection() throws -> HeadSelection {
        guard let selection = HeadSelection(parsing: head) else {
            throw ValidationError("--head must be a positive number, mean, max or min")
        }
        return selection
    }

    /// 0-based layer for a model with `count` layers.
    func layerIndex(count: Int) throws -> Int {
        if layer == "last" { return count - 1 }
        let value = Int(layer)!
        guard value <= count else { throw ValidationError("--layer \(value): the model has \(count) layers") }
        return value - 1
    }

    func colorMode(terminfoColors: Int?) -> ColorMode {
        ColorMode.detect(flag: color, environment: ProcessInfo.processInfo.environment, terminfoColors: terminfoColors)
    }

    /// Loads the model and what the explorer needs to know about it; errors as one line.
    func loadModel() throws -> (LoadedModel, ExplorerState.ModelFacts) {
        let loaded = try modelOptions.load(resolution: resolution)
        let summary = loaded.backbone.summary
        let context = loaded.poolingContext
        let facts = ExplorerState.ModelFacts(name: ExplorerState.ModelFacts.displayName(loaded.name),
                                             architecture: summary.name, layerCount: summary.layerCount,
                                             heads: summary.heads, headsGuessed: summary.headsGuessed, isTransformer: summary.family == .vit,
                                             hasClassToken: summary.hasClassToken, context: context)
        return (loaded, facts)
    }

}

extension ColorMode: ExpressibleByArgument {}
extension SymbolSet: ExpressibleByArgument {}
extension Colormap: ExpressibleByArgument {}
extension ExplorerState.View: ExpressibleByArgument {}

extension PixelStill {
    /// At the cell size in pixels the terminal on standard output reports (`TIOCGWINSZ`),
    /// else answers (XTWINOPS 16, asked once and remembered), else at 10 × 20.
    public static func sized(_ pixelProtocol: PixelProtocol) -> PixelStill {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0, size.ws_xpixel > 0, size.ws_ypixel > 0 {
            return PixelStill(pixelProtocol: pixelProtocol, cellWidth: Int(size.ws_xpixel) / Int(size.ws_col),
                              cellHeight: Int(size.ws_ypixel) / Int(size.ws_row))
        }
        if let cell = answeredCellSize {
            return PixelStill(pixelProtocol: pixelProtocol, cellWidth: cell.width, cellHeight: cell.height)
        }
        return PixelStill(pixelProtocol: pixelProtocol)
    }

    /// The terminal's answer, asked on first use only (a static is initialised once): the
    /// explorer sizes every frame, and while ncurses owns the terminal its input must not
    /// be read behind its back, so `BrowseCommand` asks before ncurses starts.
    static let answeredCellSize: (width: Int, height: Int)? = TerminalProbe.cellSize()
}
