import Foundation
import Testing
import TestSupport

/// Grids, patch queries, the mouse and 24-bit colour with the real binary under tmux.
extension TerminalSessionTests {
    @Test(.enabled(if: tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func gridsQueriesAndTrueColourInARealTerminal() throws {
        let session = Session()
        defer { session.stop() }
        let cache = try Fixtures.temporaryDirectory().path
        let binary = CommandRunner.executable.path
        // The terminal most people have: xterm-256color announcing truecolor, no *-direct entry.
        try session.start("env -u NO_COLOR TERM=xterm-256color COLORTERM=truecolor XDG_CACHE_HOME=\(cache) LANG=C.UTF-8 "
            + "\(binary) \(Fixtures.samplePath("images/owl.jpg")); echo EXIT=$?; sleep 120")
        _ = try session.waitFor("the first map") { $0.contains("[1/1]  owl.jpg") && $0.contains("fwd ") }
        let colours = try session.tmux(["capture-pane", "-p", "-e"])
        #expect(colours.contains("38;2;") && colours.contains("48;2;"), "no 24-bit colour through ncurses")
        #expect(FileManager.default.fileExists(atPath: cache + "/simpool-explorer/terminfo/x/xterm-256color-direct24"))

        // g: every head of the layer; → and Enter open head 1.
        try session.keys("g")
        _ = try session.waitFor("the heads grid") { $0.contains("▸mean of heads") && $0.contains("head 6") }
        try session.keys("Right", "Enter")
        _ = try session.waitFor("head 1 opened") { $0.contains("│ cls │ layer 12/12 │ head 1 │") && !$0.contains("head 6") }

        // p: a query patch in the middle; the arrows move it and the map follows.
        try session.keys("p")
        let centre = try session.waitFor("query mode") { $0.contains("query from ") }
        let (row, column) = try #require(Self.query(centre))
        let before = try session.tmux(["capture-pane", "-p", "-e"])
        try session.keys("Left", "Left", "Up")
        _ = try session.waitFor("the moved query") { $0.contains("query from \(row - 1),\(column - 2) ") }
        let movedScreen = try session.tmux(["capture-pane", "-p", "-e"])
        #expect(Self.mapColours(before) != Self.mapColours(movedScreen), "the map did not change with the query")
        // A click (xterm's SGR mouse report) puts the query under the pointer.
        try session.tmux(["send-keys", "-l", "\u{1B}[<0;1;4M"])
        _ = try session.waitFor("the clicked patch") { $0.contains("query from 1,0 ") }

        try session.keys("q")
        let after = try session.waitFor("the program to exit") { $0.contains("EXIT=") }
        #expect(after.contains("EXIT=0"))
    }

    /// The query patch the status line names.
    static func query(_ screen: String) -> (Int, Int)? {
        guard let pattern = try? Regex(#"query from (\d+),(\d+) "#), let match = screen.firstMatch(of: pattern),
              let row = match.output[1].substring.flatMap({ Int($0) }),
              let column = match.output[2].substring.flatMap({ Int($0) }) else { return nil }
        return (row, column)
    }

    /// The colours of the map panel's cells (the middle third of the side view's rows below
    /// the titles), read from `capture-pane -e` output; the cursor's cell is left out.
    static func mapColours(_ screen: String) -> [[String]] {
        screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).prefix(12).map { line in
            var cells: [(style: String, character: Character)] = []
            var style = "", escape: String?
            for character in line {
                if character == "\u{1B}" { escape = ""; continue }
                if var sequence = escape {
                    sequence.append(character)
                    if character == "m" { style += sequence; escape = nil } else { escape = sequence }
                    continue
                }
                cells.append((style, character))
            }
            let third = cells.count / 3
            return cells[third..<min(2 * third, cells.count)].map { $0.character == "+" ? "" : $0.style }
        }
    }
}
