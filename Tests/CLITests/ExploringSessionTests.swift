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
        try session.keys("Left", "Left", "Up")
        let moved = try session.waitFor("the moved query") { $0.contains("query from ") && $0 != centre }
        #expect(Self.mapPanel(centre) != Self.mapPanel(moved), "the map did not change with the query")
        // A click (xterm's SGR mouse report) puts the query under the pointer.
        try session.tmux(["send-keys", "-l", "\u{1B}[<0;1;4M"])
        _ = try session.waitFor("the clicked patch") { $0.contains("query from 1,0 ") }

        try session.keys("q")
        let after = try session.waitFor("the program to exit") { $0.contains("EXIT=") }
        #expect(after.contains("EXIT=0"))
    }

    /// The middle third of the rows below the titles: the map panel of the side view.
    static func mapPanel(_ screen: String) -> [Substring] {
        screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).prefix(10).map { line in
            let characters = Array(line)
            let third = characters.count / 3
            return Substring(String(characters[min(third, characters.count)..<min(2 * third, characters.count)]))
        }
    }
}
