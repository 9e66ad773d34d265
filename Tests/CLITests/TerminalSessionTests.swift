import Foundation
import Testing
import TestSupport

/// The real binary in a real terminal (tmux): keys in, screen out, terminal restored.
struct TerminalSessionTests {
    static let tmuxAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

    /// One tmux server per test, on its own socket.
    struct Session {
        let socket: String

        /// `socket`: another test's tmux server to talk to (one started inside a pane).
        init(socket: String = "simpool-test-\(UUID().uuidString.prefix(8))") { self.socket = socket }

        /// Runs tmux through the shell and waits with waitpid (via system): tmux's client
        /// forks the server, which confuses Foundation's process monitoring.
        @discardableResult
        func tmux(_ arguments: [String], capture: Bool = true) throws -> String {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(UUID().uuidString).out")
            defer { try? FileManager.default.removeItem(at: output) }
            let quoted = (["/usr/bin/tmux", "-L", socket] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let line = quoted.joined(separator: " ") + " </dev/null >\(capture ? output.path : "/dev/null") 2>/dev/null"
            _ = system(line)
            return capture ? ((try? String(contentsOf: output, encoding: .utf8)) ?? "") : ""
        }

        func start(_ command: String) throws {
            try tmux(["new-session", "-d", "-x", "120", "-y", "36", command], capture: false)
        }

        func screen() throws -> String { try tmux(["capture-pane", "-p"]) }

        func keys(_ keys: String...) throws { try tmux(["send-keys"] + keys) }

        /// Polls the screen until `predicate` holds (or the time runs out).
        func waitFor(_ what: String, timeout: Double = 60, _ predicate: (String) -> Bool) throws -> String {
            let deadline = Date().addingTimeInterval(timeout)
            var last = ""
            while Date() < deadline {
                last = try screen()
                if predicate(last) { return last }
                Thread.sleep(forTimeInterval: 0.2)
            }
            Issue.record("timed out waiting for \(what); screen:\n\(last)")
            return last
        }

        func stop() { _ = try? tmux(["kill-server"]) }
    }

    static func command(_ extra: String = "") -> String {
        let binary = CommandRunner.executable.path
        // The shell traps SIGINT so that Ctrl-C reaches the explorer and the shell lives on.
        return "trap : INT; env -u NO_COLOR -u COLORTERM TERM=xterm-256color LANG=C.UTF-8 \(binary) \(extra); echo EXIT=$?; stty -a | tr ';' '\\n' | grep -E '(^| )-?(echo|icanon)( |$)' | tr -s ' ' | sed 's/^ //'; sleep 120"
    }

    @Test(.enabled(if: tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func browseTheSamplesWithKeys() throws {
        let session = Session()
        defer { session.stop() }
        let exports = try Fixtures.temporaryDirectory().appendingPathComponent("exports").path
        try session.start(Self.command("--out \(exports)"))
        let first = try session.waitFor("the first image's map") { $0.contains("[1/14]") && $0.contains("fwd ") }
        #expect(first.contains("astronaut.png"))
        // A transformer with [CLS] and no SimPool head opens on its [CLS] attention.
        #expect(first.contains("dinov2-vits14 │ cls │ layer 12/12"))

        try session.keys("Right")
        let second = try session.waitFor("the next image") { $0.contains("[2/14]  bird.bmp") && $0.contains("fwd ") }
        #expect(second.contains("map cls"))

        try session.keys("Tab")
        _ = try session.waitFor("the next method") { $0.contains("dinov2-vits14 │ rollout │ layer 12/12") }
        try session.keys("Down")
        _ = try session.waitFor("the previous layer") { $0.contains("│ rollout │ layer 11/12 │ head mean") }
        try session.keys("?")
        _ = try session.waitFor("the help") { $0.contains("simpool-explorer keys") }
        try session.keys("x")
        _ = try session.waitFor("the help to close") { !$0.contains("simpool-explorer keys") }

        // e exports the map on screen; the status line says where the files went.
        try session.keys("e")
        _ = try session.waitFor("the export") { $0.contains("exported 3 files to \(exports)/") }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: exports)) ?? []
        #expect(files.sorted() == ["bird.rollout.L11.mean.json", "bird.rollout.L11.mean.npy", "bird.rollout.L11.mean.png"])

        try session.keys("q")
        let after = try session.waitFor("the program to exit") { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(after.contains("EXIT=0"))
        // The terminal is back in normal mode: echo and canonical input on.
        let modes = after.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(modes.contains { $0.split(separator: " ").contains("echo") }, "echo not restored:\n\(after)")
        #expect(modes.contains { $0.split(separator: " ").contains("icanon") }, "icanon not restored:\n\(after)")
    }

    @Test(.enabled(if: tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func controlCRestoresTheTerminal() throws {
        let session = Session()
        defer { session.stop() }
        try session.start(Self.command(Fixtures.samplePath("images/cat.bmp")))
        _ = try session.waitFor("the explorer") { $0.contains("[1/1]  cat.bmp") }
        try session.keys("C-c")
        let after = try session.waitFor("the program to exit") { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(after.contains("EXIT=0"))
        #expect(after.split(separator: "\n").contains { $0.split(separator: " ").contains("echo") })
    }
}

extension TerminalSessionTests {
    @Test(.enabled(if: tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func sigtermRestoresTheTerminal() throws {
        let session = Session()
        defer { session.stop() }
        try session.start(Self.command(Fixtures.samplePath("images/owl.jpg")))
        _ = try session.waitFor("the explorer") { $0.contains("[1/1]  owl.jpg") }
        let shell = try session.tmux(["list-panes", "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(system("kill -TERM $(pgrep -P \(shell) -f simpool-explorer)") == 0)
        let after = try session.waitFor("the program to exit") { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(after.contains("EXIT=0"))
        #expect(after.split(separator: "\n").contains { $0.split(separator: " ").contains("echo") })
    }
}

/// `render` for scripts and issues.
struct RenderCommandTests {
    @Test func asciiWithoutColourIsPlainPrintableText() throws {
        let result = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--color", "none",
                                            "--symbols", "ascii", "--width", "72", "--method", "gem:p=3"])
        #expect(result.status == 0, "\(result.standardError)")
        let bytes = Array(result.standardOutput.utf8)
        #expect(!bytes.isEmpty)
        #expect(bytes.allSatisfy { $0 == 0x0A || (0x20...0x7E).contains($0) }, "non-ASCII output")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 72 })
        #expect(lines.last?.hasPrefix("owl.jpg | dinov2-vits14 | gem:p=3 | layer 12/12") == true)
    }

    @Test func colourOutputUsesTheRequestedSequences() throws {
        let truecolor = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--color", "truecolor",
                                               "--width", "40", "--view", "map"])
        #expect(truecolor.standardOutput.contains("\u{1B}[0;38;2;"))
        let palette = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--color", "256",
                                             "--width", "40", "--view", "overlay"])
        #expect(palette.standardOutput.contains("38;5;") && !palette.standardOutput.contains("38;2;"))
    }

    @Test func methodsThatCannotRunSaySo() throws {
        let result = try CommandRunner.run(["render", Fixtures.samplePath("images/owl.jpg"), "--model",
                                            Fixtures.path("backbones/resnet18.pth"), "--method", "cls"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("cls: needs a transformer with a [CLS] token"))
    }
}
