import Foundation
import Imaging
import Testing
import TestSupport
import TerminalCanvas

/// Kitty's pictures from inside tmux, end to end. The harness's tmux shows a pane in which
/// `script` plays kitty: it records every byte an inner tmux sends its client, a terminal
/// named `xterm-kitty` (a terminfo made here from xterm-256color), as kitty would receive
/// them. The inner tmux allows passthrough; the binary runs in its pane and finds kitty by
/// asking tmux. Its pane then holds the placeholder cells, which the test reads back.
struct KittyInTmuxTests {
    typealias Session = TerminalSessionTests.Session

    struct Nested {
        let outer = Session()
        let inner = Session(socket: "simpool-inner-\(UUID().uuidString.prefix(8))")
        let typescript: String

        /// `command` run in the inner tmux's pane, behind a client that calls itself kitty.
        init(_ command: String, passthrough: Bool = true) throws {
            let folder = try Fixtures.temporaryDirectory()
            let terminfo = folder.appendingPathComponent("terminfo").path
            let made = system("infocmp -x xterm-256color | sed '1,/^xterm-256color|/s/^xterm-256color|[^,]*,/xterm-kitty|kitty for tests,/'"
                              + " | tic -x -o \(terminfo) - 2>/dev/null")
            try #require(made == 0, "tic could not make the test terminfo")
            let configuration = folder.appendingPathComponent("tmux.conf")
            try "set -g allow-passthrough \(passthrough ? "on" : "off")\nset -g default-terminal screen-256color\nset -g status off\n"
                .write(to: configuration, atomically: true, encoding: .utf8)
            let script = folder.appendingPathComponent("inner.sh")
            try "\(command); echo EXIT=$?; sleep 120\n".write(to: script, atomically: true, encoding: .utf8)
            typescript = folder.appendingPathComponent("typescript").path
            let client = "/usr/bin/tmux -L \(inner.socket) -f \(configuration.path) new-session 'bash \(script.path)'"
            try outer.start("env -u TMUX TERM=xterm-kitty TERMINFO=\(terminfo) LANG=C.UTF-8 script -q -f -e -c \"\(client)\" \(typescript);"
                            + " echo OUTER=$?; sleep 120")
        }

        func stop() {
            inner.stop()
            outer.stop()
        }

        /// What kitty received so far.
        func received() throws -> String {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: typescript)), as: UTF8.self)
        }

        /// The inner pane, colours included.
        func pane() throws -> String { try inner.tmux(["capture-pane", "-p", "-e"]) }
    }

    /// One placeholder cell as the pane holds it.
    struct Cell: Hashable {
        let line: Int, column: Int
        let color: Int, row: Int, imageColumn: Int, high: Int
    }

    /// The placeholder cells of a captured pane: each line's characters counted into
    /// columns, SGR escapes followed for the foreground's 256-colour index.
    static func placeholders(_ pane: String) -> [Cell] {
        let index = Dictionary(uniqueKeysWithValues: KittyPlaceholders.diacritics.enumerated().map { ($1, $0) })
        var cells: [Cell] = []
        for (line, text) in pane.components(separatedBy: "\n").enumerated() {
            let scalars = Array(text.unicodeScalars)
            var i = 0, column = -1, color = -1
            while i < scalars.count {
                let scalar = scalars[i]
                if scalar == "\u{1B}", i + 1 < scalars.count, scalars[i + 1] == "[" {
                    var j = i + 2
                    while j < scalars.count, !("@"..."~").contains(scalars[j]) { j += 1 }
                    let codes = String(String.UnicodeScalarView(scalars[(i + 2)..<j])).split(separator: ";", omittingEmptySubsequences: false)
                    if j < scalars.count, scalars[j] == "m" {
                        var k = 0
                        while k < codes.count {
                            if codes[k] == "38", k + 2 < codes.count, codes[k + 1] == "5" { color = Int(codes[k + 2]) ?? -1; k += 3; continue }
                            if codes[k] == "0" || codes[k] == "39" || codes[k].isEmpty { color = -1 }
                            k += 1
                        }
                    }
                    i = j + 1
                    continue
                }
                if index[scalar.value] != nil { i += 1; continue }          // a mark: no column of its own
                column += 1
                if scalar.value == 0x10EEEE, i + 3 < scalars.count,
                   let row = index[scalars[i + 1].value], let imageColumn = index[scalars[i + 2].value], let high = index[scalars[i + 3].value] {
                    cells.append(Cell(line: line, column: column, color: color, row: row, imageColumn: imageColumn, high: high))
                }
                i += 1
            }
        }
        return cells
    }

    /// The transmissions kitty received: each picture's keys and its PNG.
    static func transmissions(_ bytes: String) throws -> [(keys: [String: String], png: Data)] {
        var pictures: [(keys: [String: String], payload: String)] = []
        for command in PixelRenderTests.segments(bytes, from: "\u{1B}_G", to: "\u{1B}\\") {
            let parts = command.split(separator: ";", maxSplits: 1)
            let keys = Dictionary(parts[0].split(separator: ",").map { pair -> (String, String) in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
            }, uniquingKeysWith: { $1 })
            if keys["a"] == "T" { pictures.append((keys, "")) } else if keys["a"] != nil || pictures.isEmpty { continue }
            pictures[pictures.count - 1].payload += parts.count > 1 ? String(parts[1]) : ""
        }
        return try pictures.map { ($0.keys, try #require(Data(base64Encoded: $0.payload))) }
    }

    /// Each picture's cells form its whole rectangle, every cell in its place, under the
    /// id the picture was sent with; the PNG has the rectangle's shape in cells.
    static func expectPictures(pane: String, received: String, count: Int) throws {
        let cells = placeholders(pane)
        let groups = Dictionary(grouping: cells) { UInt32($0.high) << 24 | UInt32($0.color) }
        let sent = try transmissions(received)
        #expect(groups.count == count, "\(groups.count) pictures in the pane")
        for (id, group) in groups {
            let picture = try #require(sent.last { $0.keys["i"] == String(id) }, "picture \(id) was never sent")
            #expect(picture.keys["U"] == "1")
            let (columns, rows) = (Int(picture.keys["c"] ?? "") ?? -1, Int(picture.keys["r"] ?? "") ?? -1)
            let top = group.map(\.line).min()!, left = group.map(\.column).min()!
            #expect(group.count == columns * rows, "picture \(id): \(group.count) cells for \(columns)×\(rows)")
            #expect(group.allSatisfy { $0.line - top == $0.row && $0.column - left == $0.imageColumn })
            let image = try ImageDecoder.decode(data: picture.png, path: "kitty")
            #expect(image.width % columns == 0 && image.height % rows == 0)
        }
    }

    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func explorerPicturesReachKittyAndAreFreedOnExit() throws {
        let binary = CommandRunner.executable.path
        let nested = try Nested("\(binary) --pixels auto")
        defer { nested.stop() }
        _ = try nested.inner.waitFor("the first image's map") { $0.contains("[1/14]") && $0.contains("fwd ") }
        // The pictures are written just after the frame: wait until the last has its cells.
        var pane = ""
        for _ in 0..<50 {
            pane = try nested.pane()
            if Set(Self.placeholders(pane).map(\.color)).count == 3 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        try nested.inner.keys("q")
        let end = try nested.inner.waitFor("the explorer to quit") { $0.contains("EXIT=") }
        #expect(end.contains("EXIT=0"))
        let received = try nested.received()
        try Self.expectPictures(pane: pane, received: received, count: 3)
        // Every picture's data freed after the last was sent.
        let ids = Set(try Self.transmissions(received).compactMap { $0.keys["i"] })
        let lastSent = try #require(received.range(of: "a=T,U=1", options: .backwards))
        for id in ids { #expect(received[lastSent.upperBound...].contains("\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\")) }
        #expect(ids.count == 3)
    }

    /// `render --grid` draws each tile as a picture; inside tmux they are text, so they
    /// stay in the pane's scrollback.
    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func renderedGridTilesArePlaceholders() throws {
        let binary = CommandRunner.executable.path
        let owl = Fixtures.samplePath("images/owl.jpg")
        let nested = try Nested("\(binary) render \(owl) --grid heads --width 110")
        defer { nested.stop() }
        let screen = try nested.inner.waitFor("render to finish") { $0.contains("EXIT=") }
        #expect(screen.contains("EXIT=0"), "\(screen)")
        // The photo, the mean of the heads and six heads.
        try Self.expectPictures(pane: try nested.pane(), received: try nested.received(), count: 8)
    }

    /// Where tmux does not let kitty's pictures through, `--pixels kitty` says so in one
    /// line and draws cells.
    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func kittyWithoutPassthroughSaysSoAndDrawsCells() throws {
        let binary = CommandRunner.executable.path
        let owl = Fixtures.samplePath("images/owl.jpg")
        let nested = try Nested("\(binary) render \(owl) --width 60 --pixels kitty", passthrough: false)
        defer { nested.stop() }
        let screen = try nested.inner.waitFor("render to finish") { $0.contains("EXIT=") }
        #expect(screen.contains("EXIT=0"))
        #expect(screen.contains("--pixels kitty: tmux does not pass kitty's pictures on"))
        #expect(screen.contains("owl.jpg | dinov2-vits14"))
        #expect(Self.placeholders(try nested.pane()).isEmpty)
        #expect(!(try nested.received()).contains("\u{1B}_G"))
    }
}
