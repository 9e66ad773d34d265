import Foundation

/// The kitty graphics protocol: the image as a PNG (f=100), base64 in chunks of 4096 bytes
/// (m=1 on all but the last), transmitted and shown at once (a=T) scaled to `columns × rows`
/// cells (c, r), with the cursor left where it was (C=1) and no replies (q=2), so that
/// nothing comes back into the program's input.
public enum KittyImage {
    public static let chunkBytes = 4096

    public static func escape(_ image: RGBImage, columns: Int, rows: Int) throws -> String {
        let png = try image.png()
        return chunks(Data(png).base64EncodedString(), firstKeys: "a=T,f=100,c=\(columns),r=\(rows),C=1,q=2").joined()
    }

    /// A base64 payload as graphics commands of at most `chunkBytes` each: the keys on the
    /// first, `m=1` on all but the last.
    static func chunks(_ payload: String, firstKeys: String) -> [String] {
        var commands: [String] = []
        var start = payload.startIndex
        repeat {
            let end = payload.index(start, offsetBy: chunkBytes, limitedBy: payload.endIndex) ?? payload.endIndex
            let more = end < payload.endIndex ? 1 : 0
            let keys = commands.isEmpty ? "\(firstKeys),m=\(more)" : "m=\(more)"
            commands.append("\u{1B}_G\(keys);\(payload[start..<end])\u{1B}\\")
            start = end
        } while start < payload.endIndex
        return commands
    }

    /// Deletes every image kitty shows (placements and data).
    public static let deleteAll = "\u{1B}_Ga=d,d=A,q=2\u{1B}\\"
}
