import Foundation
import Imaging
import Testing
import TestSupport
import TerminalCanvas

/// The graphics protocols' escape streams decoded back: sixel by libsixel's own decoder
/// (`sixel2png`), kitty's and iTerm2's base64 PNG by libpng, against the intended pixels.
struct PixelProtocolTests {
    static func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var random = SeededGenerator(seed: seed)
        let pixels = (0..<(width * height)).map { _ in RGB(UInt8(random.below(256)), UInt8(random.below(256)), UInt8(random.below(256))) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static func decodePNG(_ base64: String) throws -> PixelImage {
        let data = try #require(Data(base64Encoded: base64))
        return try ImageDecoder.decode(data: data, path: "payload").rgb()
    }

    @Test func sixelDecodesToTheQuantisedImage() throws {
        // 37 × 23: neither side a multiple of six, a band cut short at the bottom.
        let image = Self.randomImage(width: 37, height: 23, seed: 21)
        let folder = try Fixtures.temporaryDirectory()
        let sixel = folder.appendingPathComponent("image.six"), png = folder.appendingPathComponent("image.png")
        try Data(SixelImage.escape(image).utf8).write(to: sixel)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sixel2png", "-i", sixel.path, "-o", png.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sixel2png (Debian's libsixel-bin) failed")
        let decoded = try ImageDecoder.decode(path: png.path).rgb()
        #expect(decoded.width == 37 && decoded.height == 23)
        let want = image.pixels.map(SixelImage.quantised).flatMap { [$0.r, $0.g, $0.b] }
        #expect(decoded.pixels == want)
        // The quantisation itself: each channel to the nearest of 0, 51, …, 255.
        for pixel in image.pixels {
            let q = SixelImage.quantised(pixel)
            for (v, w) in [(pixel.r, q.r), (pixel.g, q.g), (pixel.b, q.b)] { #expect(abs(Int(v) - Int(w)) <= 25) }
        }
    }

    @Test func kittyPayloadIsTheImageInChunks() throws {
        let image = Self.randomImage(width: 64, height: 48, seed: 5)   // ~12 kB of PNG: several chunks
        let text = try KittyImage.escape(image, columns: 20, rows: 9)
        let chunks = text.components(separatedBy: "\u{1B}_G").dropFirst().map { $0 }
        #expect(chunks.count > 1)
        var payload = ""
        for (i, chunk) in chunks.enumerated() {
            #expect(chunk.hasSuffix("\u{1B}\\"))
            let body = chunk.dropLast(2)
            let parts = body.split(separator: ";", maxSplits: 1)
            let keys = Set(parts[0].split(separator: ","))
            #expect(keys.contains(i == chunks.count - 1 ? "m=0" : "m=1"))
            if i == 0 { #expect(keys.isSuperset(of: ["a=T", "f=100", "c=20", "r=9", "q=2", "C=1"])) }
            #expect(parts[1].count <= KittyImage.chunkBytes)
            payload += parts[1]
        }
        let decoded = try Self.decodePNG(payload)
        #expect(decoded.width == 64 && decoded.height == 48)
        #expect(decoded.pixels == image.pixels.flatMap { [$0.r, $0.g, $0.b] })
    }

    @Test func itermPayloadIsTheImage() throws {
        let image = Self.randomImage(width: 30, height: 20, seed: 9)
        let text = try ITermImage.escape(image, columns: 15, rows: 5)
        #expect(text.hasPrefix("\u{1B}]1337;File=inline=1;") && text.hasSuffix("\u{07}"))
        let header = text.split(separator: ":", maxSplits: 1)[0]
        #expect(header.contains("width=15") && header.contains("height=5") && header.contains("preserveAspectRatio=0"))
        let decoded = try Self.decodePNG(String(text.split(separator: ":", maxSplits: 1)[1].dropLast()))
        #expect(decoded.pixels == image.pixels.flatMap { [$0.r, $0.g, $0.b] })
    }

    @Test func detectionTrustsOnlyWhatTerminalsSet() {
        #expect(PixelProtocol.detect(environment: ["TERM": "xterm-kitty"]) == .kitty)
        #expect(PixelProtocol.detect(environment: ["KITTY_WINDOW_ID": "1", "TERM": "xterm-256color"]) == .kitty)
        #expect(PixelProtocol.detect(environment: ["TERM_PROGRAM": "WezTerm"]) == .kitty)
        #expect(PixelProtocol.detect(environment: ["TERM_PROGRAM": "ghostty"]) == .kitty)
        #expect(PixelProtocol.detect(environment: ["TERM_PROGRAM": "iTerm.app"]) == .iterm)
        #expect(PixelProtocol.detect(environment: ["TERM": "foot"]) == .sixel)
        #expect(PixelProtocol.detect(environment: ["TERM": "xterm-256color"]) == nil)
        #expect(PixelProtocol.detect(environment: ["TERM_PROGRAM": "vscode"]) == nil)
        // Inside tmux the outer terminal's variables are inherited but its protocol is not reachable.
        #expect(PixelProtocol.detect(environment: ["TERM": "tmux-256color", "KITTY_WINDOW_ID": "1", "TMUX": "/tmp/x"]) == nil)
        #expect(PixelProtocol.detect(environment: [:]) == nil)
    }

    /// Replies to the probe (a kitty query, then DA1) as terminals send them.
    @Test func probeRepliesAreRead() {
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        #expect(TerminalReplies.pixelProtocol(bytes("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;22;c")) == .kitty)
        #expect(TerminalReplies.pixelProtocol(bytes("\u{1B}[?62;4;9;22c")) == .sixel)       // xterm -ti vt340, foot
        #expect(TerminalReplies.pixelProtocol(bytes("\u{1B}[?1;2c")) == nil)                // tmux 3.3, plain xterm
        #expect(TerminalReplies.pixelProtocol(bytes("\u{1B}[?64;1;2;4;6;9;15;18;21;22c")) == .sixel)
        // Incomplete: no protocol, and not complete.
        #expect(!TerminalReplies.isComplete(bytes("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;4")))
        #expect(TerminalReplies.pixelProtocol(bytes("\u{1B}_Gi=31;OK\u{1B}\\")) == nil)
        #expect(TerminalReplies.pixelProtocol(bytes("\u{1B}_Gi=31;ENOTSUPPORTED\u{1B}\\\u{1B}[?62c")) == nil)
    }

    @Test func cellSizeRepliesAreRead() {
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        let size = TerminalReplies.cellSize(bytes("\u{1B}[6;20;9t\u{1B}[?62;4c"))
        #expect(size?.width == 9 && size?.height == 20)
        #expect(TerminalReplies.cellSize(bytes("\u{1B}[?62;4c")) == nil)          // no answer to 16t
        #expect(TerminalReplies.cellSize(bytes("\u{1B}[6;0;0t\u{1B}[?1;2c")) == nil)
        #expect(TerminalReplies.isComplete(bytes("\u{1B}[6;20;9t\u{1B}[?62;4c")))
    }
}
