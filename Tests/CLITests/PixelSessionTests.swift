import Foundation
import Imaging
import Testing
import TestSupport

/// The explorer with `--pixels` in a real terminal: tmux shows its cells, and `script`
/// between them records every byte the explorer writes to its pty, pictures included
/// (tmux 3.3 drops sixel itself, so its screen cannot show them).
struct PixelSessionTests {
    typealias Session = TerminalSessionTests.Session

    /// The explorer on the samples under `script` (as if in a terminal of its own, not in
    /// tmux), driven by `keys`; returns its output bytes.
    func record(_ pixels: String, keys: [(String, String, (String) -> Bool)]) throws -> String {
        let session = Session()
        defer { session.stop() }
        let typescript = try Fixtures.temporaryDirectory().appendingPathComponent("typescript").path
        let binary = CommandRunner.executable.path
        let inner = "env -u NO_COLOR -u COLORTERM -u TMUX TERM=xterm-256color LANG=C.UTF-8 \(binary) --pixels \(pixels)"
        try session.start("script -q -f -e -c '\(inner)' \(typescript); echo EXIT=$?; sleep 120")
        _ = try session.waitFor("the first image's map") { $0.contains("[1/14]") && $0.contains("fwd ") }
        for (key, what, done) in keys {
            try session.keys(key)
            _ = try session.waitFor(what, done)
        }
        try session.keys("q")
        let end = try session.waitFor("the explorer to quit") { $0.contains("EXIT=") }
        #expect(end.contains("EXIT=0"), "\(end)")
        return String(decoding: try Data(contentsOf: URL(fileURLWithPath: typescript)), as: UTF8.self)
    }

    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func sixelPicturesAreWrittenAndRedrawnAndTheExplorerQuitsCleanly() throws {
        let bytes = try record("sixel", keys: [
            ("?", "the help", { $0.contains("simpool-explorer keys") }),
            ("x", "the help to close", { !$0.contains("simpool-explorer keys") }),
        ])
        let pictures = bytes.components(separatedBy: "\u{1B}P0;1;0q").count - 1
        // Three panels on the first frame, none under the help, three again after it.
        #expect(pictures >= 6 && pictures % 3 == 0, "\(pictures) sixel pictures")
        // Every picture is complete, between a saved and a restored cursor.
        #expect(bytes.components(separatedBy: "\u{1B}7\u{1B}[").count - 1 >= 2)
        #expect(!bytes.contains("\u{1B}_G"))
    }

    /// iTerm2's inline images in a session: each panel a complete OSC 1337 picture (its PNG
    /// decodes to the size it declares), drawn again after the help, and a clean quit.
    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func itermPicturesAreWrittenAndRedrawnAndTheExplorerQuitsCleanly() throws {
        let bytes = try record("iterm", keys: [
            ("?", "the help", { $0.contains("simpool-explorer keys") }),
            ("x", "the help to close", { !$0.contains("simpool-explorer keys") }),
        ])
        let pictures = bytes.components(separatedBy: "\u{1B}]1337;File=").dropFirst()
        #expect(pictures.count >= 6 && pictures.count % 3 == 0, "\(pictures.count) iTerm2 pictures")
        for picture in pictures {
            let body = try #require(picture.split(separator: "\u{07}", maxSplits: 1).first)
            let parts = body.split(separator: ":", maxSplits: 1)
            let keys = Dictionary(uniqueKeysWithValues: parts[0].split(separator: ";").map {
                let pair = $0.split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair[1]))
            })
            let png = try #require(Data(base64Encoded: String(parts[1])))
            #expect(keys["inline"] == "1" && keys["size"] == "\(png.count)")
            #expect(Int(keys["width"] ?? "") ?? 0 > 0 && Int(keys["height"] ?? "") ?? 0 > 0)
            #expect(try ImageDecoder.decode(data: png, path: "iterm").width > 0)
        }
        #expect(!bytes.contains("\u{1B}_G") && !bytes.contains("\u{1B}P0;1;0q"))
    }

    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func kittyPicturesAreDeletedBeforeEachNewSetAndAtExit() throws {
        let bytes = try record("kitty", keys: [("Right", "the next image", { $0.contains("[2/14]") && $0.contains("fwd ") })])
        let shows = bytes.components(separatedBy: "a=T,f=100").count - 1
        let deletes = bytes.components(separatedBy: "\u{1B}_Ga=d,d=A,q=2\u{1B}\\").count - 1
        #expect(shows >= 6, "\(shows) pictures")
        #expect(deletes >= 2, "\(deletes) deletions")
        // The last picture escape is followed by a deletion: none is left on exit.
        let lastShow = try #require(bytes.range(of: "a=T,f=100", options: .backwards))
        #expect(bytes[lastShow.upperBound...].contains("\u{1B}_Ga=d,d=A,q=2\u{1B}\\"))
    }

    /// The heads grid in pixels: the photo and one picture per tile (the mean and six heads).
    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func gridTilesArePictures() throws {
        let bytes = try record("kitty", keys: [("g", "the heads grid", { $0.contains("mean of heads") && $0.contains("head 6") })])
        let sets = bytes.components(separatedBy: "\u{1B}_Ga=d,d=A,q=2\u{1B}\\")
        // The set drawn for the grid (the one before the deletion on exit) has a picture per tile.
        let grid = sets[sets.count - 2]
        #expect(grid.components(separatedBy: "a=T,f=100").count - 1 == 8, "\(grid.components(separatedBy: "a=T,f=100").count - 1) pictures")
    }

    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func pixelsOffWritesNoPictures() throws {
        let bytes = try record("off", keys: [])
        #expect(!bytes.contains("\u{1B}P0;1;0q") && !bytes.contains("\u{1B}_G") && !bytes.contains("\u{1B}]1337"))
        #expect(bytes.contains("fwd "))
    }

    /// `render --pixels auto` on a terminal whose environment says nothing asks it (tmux
    /// 3.3 answers DA1 without sixel): cells are printed, and the reply is consumed, so
    /// nothing is left for the shell to read afterwards.
    @Test(.enabled(if: TerminalSessionTests.tmuxAvailable, "needs tmux (Tools/install-deps.sh installs it)"))
    func autoAsksTheTerminalAndLeavesNoStrayInput() throws {
        let session = Session()
        defer { session.stop() }
        let binary = CommandRunner.executable.path
        let owl = Fixtures.samplePath("images/owl.jpg")
        try session.start("env -u COLORTERM TERM=xterm-256color LANG=C.UTF-8 \(binary) render \(owl) --width 60 --color 256 --pixels auto;"
                          + " read -t 1 -n 64 stray; echo \"STRAY=[$stray]\"; sleep 120")
        let screen = try session.waitFor("render to finish") { $0.contains("STRAY=") }
        #expect(screen.contains("STRAY=[]"), "\(screen)")
        #expect(screen.contains("owl.jpg | dinov2-vits14"))
        #expect(!screen.contains("1;2c") && !screen.contains("_G"))
    }
}
