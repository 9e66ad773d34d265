import Foundation
import Imaging
import Testing
import TerminalCanvas

/// Kitty's pictures from inside tmux: the placeholder marks against the rule Unicode's own
/// data gives, the payload decoded back through tmux's unwrapping, and every cell naming
/// its picture, row and column.
struct KittyPlaceholderTests {
    /// The marks are the combining characters of class 230 from Unicode 6.0 that have no
    /// decomposition and are part of none, in code point order: derived again here from
    /// the standard library's Unicode tables (kitty's list has 297).
    @Test func diacriticsFollowTheirUnicodeRule() {
        var marks: [UInt32] = [], decomposing = Set<UInt32>()
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value), scalar.properties.generalCategory != .unassigned,
                  scalar.properties.generalCategory != .privateUse, scalar.properties.generalCategory != .surrogate else { continue }
            let parts = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.map(\.value)
            if parts != [value] { decomposing.formUnion(parts); continue }
            if scalar.properties.canonicalCombiningClass == .above, let age = scalar.properties.age,
               (age.major, age.minor) <= (6, 0) {
                marks.append(value)
            }
        }
        let expected = marks.filter { !decomposing.contains($0) }
        #expect(expected.count == 297)
        #expect(KittyPlaceholders.diacritics == expected)
    }

    static func image(width: Int, height: Int) -> RGBImage {
        PixelProtocolTests.randomImage(width: width, height: height, seed: 11)
    }

    /// tmux's side of passthrough: after `ESC P tmux;`, a doubled ESC is one ESC, and an
    /// ESC before a backslash ends the wrapping.
    static func unwrap(_ text: String) -> [String] {
        text.components(separatedBy: "\u{1B}Ptmux;").dropFirst().map { wrapped -> String in
            var inner: [Unicode.Scalar] = []
            var scalars = wrapped.unicodeScalars.makeIterator()
            while let scalar = scalars.next() {
                guard scalar == "\u{1B}" else { inner.append(scalar); continue }
                guard let next = scalars.next(), next == "\u{1B}" else { break }
                inner.append(next)
            }
            return String(String.UnicodeScalarView(inner))
        }
    }

    @Test func passthroughDoublesEveryEscape() {
        #expect(TmuxPassthrough.wrap("\u{1B}_Ga=d;\u{1B}\\") == "\u{1B}Ptmux;\u{1B}\u{1B}_Ga=d;\u{1B}\u{1B}\\\u{1B}\\")
    }

    @Test func transmissionIsTheImageAsAVirtualPlacement() throws {
        let picture = Self.image(width: 61, height: 47)           // ~11 kB of PNG: several chunks
        let id = KittyPlaceholders.id(slot: 2, process: 4321)
        let text = try KittyPlaceholders.transmit(picture, id: id, columns: 13, rows: 5)
        let commands = Self.unwrap(text)
        #expect(commands.count > 1)
        var payload = ""
        for (i, command) in commands.enumerated() {
            #expect(command.hasPrefix("\u{1B}_G") && command.hasSuffix("\u{1B}\\"))
            let parts = command.dropFirst(3).dropLast(2).split(separator: ";", maxSplits: 1)
            let keys = Set(parts[0].split(separator: ",").map(String.init))
            let last = i == commands.count - 1
            #expect(keys.contains(last ? "m=0" : "m=1"))
            if i == 0 {
                #expect(keys.isSuperset(of: ["a=T", "U=1", "i=\(id)", "f=100", "c=13", "r=5", "q=2"]))
            } else {
                #expect(keys.count == 1)
            }
            payload += parts.count > 1 ? String(parts[1]) : ""
        }
        let decoded = try PixelProtocolTests.decodePNG(payload)
        #expect(decoded.width == 61 && decoded.height == 47)
        #expect(decoded.pixels == picture.pixels.flatMap { [$0.r, $0.g, $0.b] })
    }

    /// Ids: the low byte 16 + slot (the colour), the high byte from the process id.
    @Test func idsNameSlotAndProcess() {
        #expect(KittyPlaceholders.id(slot: 0, process: 4321) == UInt32(4321 % 255 + 1) << 24 | 16)
        #expect(KittyPlaceholders.id(slot: 239, process: 254) == 255 << 24 | 255)
        #expect(KittyPlaceholders.id(slot: 3, process: 255) == 1 << 24 | 19)
    }

    /// Every cell of a row: the placeholder, then the row's, the column's and the id's
    /// high byte's marks, under the colour of the id's low byte.
    @Test func rowsSpellEveryCell() {
        let id = KittyPlaceholders.id(slot: 5, process: 77)
        let text = KittyPlaceholders.row(296, id: id, columns: 297)
        #expect(text.hasPrefix("\u{1B}[38;5;21m") && text.hasSuffix("\u{1B}[39m"))
        let cells = Array(text.dropFirst("\u{1B}[38;5;21m".count).dropLast("\u{1B}[39m".count).unicodeScalars.map(\.value))
        #expect(cells.count == 297 * 4)
        let d = KittyPlaceholders.diacritics
        for column in 0..<297 {
            #expect(Array(cells[(column * 4)..<(column * 4 + 4)]) == [0x10EEEE, d[296], d[column], d[78]])
        }
    }

    /// Drawn from the cursor: row after row at the same screen column, a line further down.
    @Test func escapeDrawsRowsDownOneColumn() throws {
        let id = KittyPlaceholders.id(slot: 0, process: 1)
        let text = try KittyPlaceholders.escape(Self.image(width: 20, height: 30), id: id, columns: 2, rows: 3, column: 41)
        let cells = text.components(separatedBy: "\u{1B}\\").last!
        #expect(cells == "\u{1B}[41G" + KittyPlaceholders.row(0, id: id, columns: 2)
                + "\u{1B}[B\u{1B}[41G" + KittyPlaceholders.row(1, id: id, columns: 2)
                + "\u{1B}[B\u{1B}[41G" + KittyPlaceholders.row(2, id: id, columns: 2))
        #expect(throws: PixelProtocol.TooLarge.self) {
            try PixelProtocol.kittyInTmux.escape(Self.image(width: 4, height: 4), columns: 298, rows: 2, column: 1)
        }
    }

    /// What tmux says decides: a kitty or Ghostty client, passthrough on (3.3 says 1, 3.4 may say all).
    @Test func tmuxAnswersDecideKitty() {
        #expect(TmuxPassthrough.passesKitty(clientTerminal: "xterm-kitty", passthrough: "1"))
        #expect(TmuxPassthrough.passesKitty(clientTerminal: "xterm-ghostty", passthrough: "all"))
        #expect(TmuxPassthrough.passesKitty(clientTerminal: "xterm-kitty", passthrough: "on"))
        #expect(!TmuxPassthrough.passesKitty(clientTerminal: "xterm-kitty", passthrough: "0"))
        #expect(!TmuxPassthrough.passesKitty(clientTerminal: "xterm-256color", passthrough: "1"))
        #expect(!TmuxPassthrough.passesKitty(clientTerminal: "", passthrough: ""))
    }
}
