import CNcurses
import Explorer
import Foundation
import TerminalCanvas

/// Real pixels over the ncurses frame, written after its refresh so that ncurses' own
/// output cannot interleave with an image's escape stream.
///
/// No stale picture may remain: kitty's are deleted before each new set (they float above
/// the text), while sixel and iTerm2 pictures, and kitty's placeholders inside tmux, replace
/// the cells under them, so when the previous frame had pictures ncurses repaints the whole
/// screen first (a grid, the help or a message then shows cleanly), and the new pictures are
/// drawn over that. The cursor is saved and restored around the pictures so that ncurses'
/// idea of it stays true.
extension Screen {
    func show(_ pictures: [PixelFrame.Picture], in pixelProtocol: PixelProtocol) {
        var text = ""
        if pixelProtocol == .kitty {
            if hadPictures || !pictures.isEmpty { text += KittyImage.deleteAll }
        } else if hadPictures {
            redrawwin(spx_stdscr())
            refresh()
        }
        hadPictures = !pictures.isEmpty
        // Placeholder pictures are named by slot; a new picture in a slot replaces the old.
        pictureSlots = max(pictureSlots, pictures.count)
        if !pictures.isEmpty {
            text += "\u{1B}7"
            for (slot, picture) in pictures.enumerated() {
                let column = picture.box.left + 1
                guard let escape = try? pixelProtocol.escape(picture.image, columns: picture.box.width, rows: picture.box.height,
                                                             column: column, slot: slot)
                else { continue }
                text += "\u{1B}[\(picture.box.top + 1);\(column)H" + escape
            }
            text += "\u{1B}8"
        }
        guard !text.isEmpty else { return }
        fflush(nil)
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Kitty's pictures outlive the alternate screen in some terminals: removed on exit
    /// (inside tmux, each placeholder picture's data by its id, leaving other panes' alone).
    func removePictures(_ pixelProtocol: PixelProtocol?) {
        switch pixelProtocol {
        case .kitty? where hadPictures:
            FileHandle.standardOutput.write(Data(KittyImage.deleteAll.utf8))
        case .kittyInTmux?:
            let deletions = (0..<pictureSlots).map { KittyPlaceholders.delete(id: KittyPlaceholders.id(slot: $0)) }
            FileHandle.standardOutput.write(Data(deletions.joined().utf8))
        default: break
        }
        hadPictures = false
        pictureSlots = 0
    }
}
