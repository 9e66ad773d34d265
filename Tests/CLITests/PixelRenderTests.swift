import Foundation
import Imaging
import Testing
import TestSupport

/// `render --pixels` and `export --format kitty|sixel`: the panels as real pictures, each
/// decoded back (sixel by libsixel's `sixel2png`, kitty's PNG by libpng) at the size of the
/// cells it covers; without a terminal `auto` is today's cells exactly.
struct PixelRenderTests {
    static let owl = Fixtures.samplePath("images/owl.jpg")

    static func segments(_ text: String, from start: String, to end: String) -> [String] {
        text.components(separatedBy: start).dropFirst().map { String($0.components(separatedBy: end)[0]) }
    }

    @Test func autoWithoutATerminalIsCells() throws {
        let cells = try CommandRunner.run(["render", Self.owl, "--color", "truecolor", "--symbols", "half", "--width", "90", "--pixels", "off"])
        let auto = try CommandRunner.run(["render", Self.owl, "--color", "truecolor", "--symbols", "half", "--width", "90"],
                                         environment: ["KITTY_WINDOW_ID": "1", "TERM": "xterm-kitty"])
        #expect(cells.status == 0 && auto.status == 0)
        #expect(auto.standardOutput == cells.standardOutput)
        #expect(!cells.standardOutput.contains("\u{1B}_G") && !cells.standardOutput.contains("\u{1B}P"))
    }

    @Test func sixelPanelsDecodeAtTheirCellSize() throws {
        let result = try CommandRunner.run(["render", Self.owl, "--pixels", "sixel", "--width", "92", "--color", "truecolor"])
        #expect(result.status == 0, "\(result.standardError)")
        let images = Self.segments(result.standardOutput, from: "\u{1B}P", to: "\u{1B}\\")
        #expect(images.count == 3)
        let folder = try Fixtures.temporaryDirectory()
        var sizes: [(Int, Int)] = []
        for (i, body) in images.enumerated() {
            let sixel = folder.appendingPathComponent("\(i).six"), png = folder.appendingPathComponent("\(i).png")
            try Data(("\u{1B}P" + body + "\u{1B}\\").utf8).write(to: sixel)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sixel2png", "-i", sixel.path, "-o", png.path]
            try process.run()
            process.waitUntilExit()
            let decoded = try ImageDecoder.decode(path: png.path)
            sizes.append((decoded.width, decoded.height))
        }
        // Panels of 30 columns at the default 10 × 20-pixel cell, all the same size.
        #expect(sizes.allSatisfy { $0.0 == 300 && $0.1 == sizes[0].1 && $0.1 % 20 == 0 })
        #expect(result.standardOutput.contains("owl.jpg | dinov2-vits14"))
    }

    @Test func kittyPanelsCoverTheirCells() throws {
        let result = try CommandRunner.run(["render", Self.owl, "--pixels", "kitty", "--width", "92", "--color", "truecolor",
                                            "--query", "3,4"])
        #expect(result.status == 0, "\(result.standardError)")
        let chunks = Self.segments(result.standardOutput, from: "\u{1B}_G", to: "\u{1B}\\")
        var images: [(keys: Set<Substring>, payload: String)] = []
        for chunk in chunks {
            let parts = chunk.split(separator: ";", maxSplits: 1)
            let keys = Set(parts[0].split(separator: ","))
            if keys.contains("a=T") { images.append((keys, "")) }
            images[images.count - 1].payload += parts.count > 1 ? String(parts[1]) : ""
        }
        #expect(images.count == 3)
        for image in images {
            #expect(image.keys.contains("c=30"))
            let rows = Int(image.keys.first { $0.hasPrefix("r=") }!.dropFirst(2))!
            let decoded = try ImageDecoder.decode(data: try #require(Data(base64Encoded: image.payload)), path: "kitty")
            #expect(decoded.width == 300 && decoded.height == rows * 20)
        }
    }

    /// `render --grid` in pixels: each tile (the photo, the mean of the heads, six heads) a
    /// picture at its tile's cells, drawn from a cursor moved up to the tile's top row
    /// once its last row is printed; the titles stay text.
    @Test func gridTilesArePicturesOverTheirCells() throws {
        let result = try CommandRunner.run(["render", Self.owl, "--grid", "heads", "--pixels", "kitty", "--width", "110",
                                            "--color", "truecolor"])
        #expect(result.status == 0, "\(result.standardError)")
        let text = result.standardOutput
        let placed = text.components(separatedBy: "\u{1B}7\u{1B}[").dropFirst()
        #expect(placed.count == 8)
        for picture in placed {
            // ESC 7, ESC [ rows A, ESC [ column G, then the picture with c=, r= the same cells.
            let up = Int(picture.prefix { $0.isNumber })!
            let keys = Set(picture.components(separatedBy: "\u{1B}_G")[1].split(separator: ";")[0].split(separator: ",").map(String.init))
            #expect(keys.contains("r=\(up)") && keys.contains("a=T"), "\(keys)")
            let columns = Int(keys.first { $0.hasPrefix("c=") }!.dropFirst(2))!
            let payload = Self.segments(picture, from: "\u{1B}_G", to: "\u{1B}\\").map { $0.split(separator: ";", maxSplits: 1).last.map(String.init) ?? "" }.joined()
            let decoded = try ImageDecoder.decode(data: try #require(Data(base64Encoded: payload)), path: "kitty")
            #expect(decoded.width == columns * 10 && decoded.height == up * 20)
        }
        #expect(text.contains("mean of heads") && text.contains("head 6"))
        let sixel = try CommandRunner.run(["render", Self.owl, "--grid", "heads", "--pixels", "sixel", "--width", "110"])
        #expect(sixel.standardOutput.components(separatedBy: "\u{1B}P0;1;0q").count - 1 == 8)
    }

    @Test func exportWritesTheEscapeStreams() throws {
        let out = try Fixtures.temporaryDirectory().path
        let result = try CommandRunner.run(["export", Self.owl, "--out", out, "--method", "cls", "--format", "kitty,sixel"])
        #expect(result.status == 0, "\(result.standardError)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files.count == 2 && files[0].hasSuffix(".kitty.txt") && files[1].hasSuffix(".sixel.txt"), "\(files)")
        let kitty = try String(contentsOfFile: out + "/" + files[0], encoding: .utf8)
        let sixel = try String(contentsOfFile: out + "/" + files[1], encoding: .utf8)
        #expect(kitty.components(separatedBy: "a=T,f=100").count - 1 == 3)
        #expect(sixel.components(separatedBy: "\u{1B}P0;1;0q").count - 1 == 3)
    }
}
