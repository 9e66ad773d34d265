import CNcurses
import Explorer
import Foundation
import SimpoolExplorerCLI
import Tensors
import TerminalCanvas

/// The ncurses session: keys in, cells out. Everything else happens in the reducer and the
/// frame composer.
enum TerminalDriver {
    /// Set by the signal handlers; polled by the main loop every tick.
    nonisolated(unsafe) static var stopRequested: sig_atomic_t = 0

    static func run(_ configuration: BrowseConfiguration) -> Int32 {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            FileHandle.standardError.write(Data("browse needs a terminal; use `simpool-explorer render IMAGE` in scripts\n".utf8))
            return 2
        }
        ComputeThreads.set(ProcessInfo.processInfo.activeProcessorCount)
        let environment = ProcessInfo.processInfo.environment
        let wanted = ColorMode.detect(flag: configuration.colorFlag, environment: environment, terminfoColors: nil)
        let screen = Screen(terminal: wanted == .truecolor ? DirectColorTerminfo.prepare(environment: environment) : nil)
        installSignalHandlers()
        defer {
            // Leave at once: a forward pass may still be running on the worker, and the
            // orderly exit path would wait for (or deadlock with) BLAS's threads. Nothing is
            // left unwritten: the explorer keeps no files open.
            screen.removePictures(configuration.pixelProtocol)
            screen.close()
            fflush(nil)
            PeakMemoryReport.write()
            _exit(0)
        }

        let worker = ForwardWorker(loader: configuration.loader)
        var state = configuration.makeState(screen.columns, screen.rows, screen.colorCount)
        if state.colorMode == .truecolor && !screen.hasDirectColor {
            // ncurses can only emit 24-bit colour with a *-direct terminfo; use the palette.
            state.colorMode = .palette256
        }
        var lastFrame: CellGrid?
        var dirty = true
        while !state.quit && stopRequested == 0 {
            for index in state.wantedForwards {
                worker.request(index: index, path: state.entries[index].path, resolution: state.resolution)
            }
            // Frames are composed only after something happened; idle ticks cost nothing.
            if dirty {
                let frame = FrameComposer.frame(state)
                if frame != lastFrame {
                    screen.draw(frame, mode: state.colorMode)
                    lastFrame = frame
                    if let pixelProtocol = configuration.pixelProtocol {
                        screen.show(PixelFrame.pictures(state, still: PixelStill.sized(pixelProtocol)), in: pixelProtocol)
                    }
                }
                dirty = false
                if configuration.exitAfterFirstFrame && state.current?.result != nil { break }
            }
            // While the image on screen waits for its forward pass, look for the result
            // often; otherwise a slower tick keeps an idle explorer idle.
            screen.setTick(milliseconds: state.current?.result == nil ? 10 : 80)
            var actions: [ExplorerAction] = []
            switch screen.readInput() {
            case .key(let key): actions.append(.key(key))
            case .mouse(let event): actions.append(.mouse(event))
            case .resize(let columns, let rows): actions.append(.resize(columns: columns, rows: rows))
            case .timeout:
                if state.current?.result == nil { actions.append(.tick) }
            }
            actions += worker.drain()
            for action in actions { state = Reducer.reduce(state, action) }
            if !state.exportRequests.isEmpty {
                for request in state.exportRequests { worker.export(request, state: state, configuration: configuration) }
                state = Reducer.reduce(state, .exportsTaken)
            }
            dirty = !actions.isEmpty
        }
        return 0
    }

    static func installSignalHandlers() {
        signal(SIGINT) { _ in TerminalDriver.stopRequested = 1 }
        signal(SIGTERM) { _ in TerminalDriver.stopRequested = 1 }
        signal(SIGHUP) { _ in TerminalDriver.stopRequested = 1 }
        // Fatal signals: give the terminal back, say so in one line, then die as the signal asks.
        for fatal in [SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGTRAP] {
            signal(fatal) { number in
                endwin()
                CrashReport.write()
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }
}

/// The ncurses screen: set up, read keys, draw cells, restore.
final class Screen {
    enum Input { case key(Key), mouse(MouseEvent), resize(Int, Int), timeout }

    private(set) var columns: Int
    private(set) var rows: Int
    let colorCount: Int?
    let hasDirectColor: Bool
    private var pairs: [Int64: Int32] = [:]
    private var closed = false
    /// Whether pictures are on screen (see PixelOverlay.swift).
    var hadPictures = false
    /// How many kitty placeholder pictures were ever sent at once: their ids, to free on exit.
    var pictureSlots = 0

    /// `terminal`: a terminfo name to use instead of `$TERM` (a direct-colour variant).
    init(terminal: String?) {
        setlocale(LC_ALL, "")
        if let terminal, let screen = newterm(terminal, fdopen(STDOUT_FILENO, "w"), fdopen(STDIN_FILENO, "r")) {
            set_term(screen)
        } else {
            initscr()
        }
        cbreak()
        noecho()
        nonl()
        keypad(spx_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        timeout(80)
        // Clicks and the wheel, reported at once (no wait to tell a click from a press).
        mousemask(spx_all_mouse_events(), nil)
        mouseinterval(0)
        if has_colors() {
            start_color()
            use_default_colors()
            colorCount = Int(spx_colors())
        } else {
            colorCount = nil
        }
        hasDirectColor = (colorCount ?? 0) >= 0x100_0000
        columns = Int(spx_getmaxx(spx_stdscr()))
        rows = Int(spx_getmaxy(spx_stdscr()))
        atexit { endwin() }
    }

    func setTick(milliseconds: Int32) {
        timeout(milliseconds)
    }

    func close() {
        guard !closed else { return }
        closed = true
        curs_set(1)
        endwin()
    }

    func readInput() -> Input {
        var character: wint_t = 0
        let status = wget_wch(spx_stdscr(), &character)
        if status == ERR { return .timeout }
        if status == KEY_CODE_YES {
            switch Int32(character) {
            case KEY_RESIZE:
                columns = Int(spx_getmaxx(spx_stdscr()))
                rows = Int(spx_getmaxy(spx_stdscr()))
                pairs.removeAll()
                return .resize(columns, rows)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_BTAB: return .key(.backTab)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_ENTER: return .key(.enter)
            case KEY_MOUSE:
                var event = MEVENT()
                guard getmouse(&event) == OK else { return .timeout }
                if event.bstate & (spx_button1_pressed() | spx_button1_clicked()) != 0 {
                    return .mouse(.click(column: Int(event.x), row: Int(event.y)))
                }
                if event.bstate & spx_button4_pressed() != 0 { return .mouse(.wheelUp) }
                if event.bstate & spx_button5_pressed() != 0 { return .mouse(.wheelDown) }
                return .timeout
            default: return .timeout
            }
        }
        switch character {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        default:
            guard let scalar = Unicode.Scalar(UInt32(character)) else { return .timeout }
            return .key(.character(Character(scalar)))
        }
    }

    func draw(_ grid: CellGrid, mode: ColorMode) {
        for row in 0..<min(grid.height, rows) {
            for column in 0..<min(grid.width, columns) {
                if row == rows - 1 && column == columns - 1 { continue }   // writing there would scroll
                let cell = grid[row, column]
                var attributes = spx_a_normal()
                if cell.bold { attributes |= spx_a_bold() }
                if cell.reverse { attributes |= spx_a_reverse() }
                let pair = mode == .none ? 0 : pairNumber(color(cell.foreground), color(cell.background))
                let scalar = cell.character.unicodeScalars.first!.value
                _ = spx_put_cell(Int32(row), Int32(column), wchar_t(scalar), attributes, pair)
            }
        }
        refresh()
    }

    /// A colour number as ncurses takes it: −1 for the terminal's default, a palette index,
    /// or 0xRRGGBB on a direct-colour terminal (else the nearest palette entry).
    private func color(_ color: TerminalColor) -> Int32 {
        switch color {
        case .default: return -1
        case .indexed(let index): return Int32(index) < Int32(colorCount ?? 8) ? Int32(index) : -1
        case .rgb(let c):
            // Direct-colour entries read values below 8 as the ANSI colours: nudge those
            // near-blacks to 0x000008.
            if hasDirectColor { return max(8, Int32(c.r) << 16 | Int32(c.g) << 8 | Int32(c.b)) }
            return Int32(Palette.nearest256(c))
        }
    }

    private func pairNumber(_ foreground: Int32, _ background: Int32) -> Int32 {
        if foreground == -1 && background == -1 { return 0 }
        let key = Int64(foreground) << 32 | Int64(UInt32(bitPattern: background))
        if let pair = pairs[key] { return pair }
        let limit = Int(spx_color_pairs()) - 1
        if pairs.count >= limit { pairs.removeAll() }
        let pair = Int32(pairs.count + 1)
        init_extended_pair(pair, foreground, background)
        pairs[key] = pair
        return pair
    }
}
