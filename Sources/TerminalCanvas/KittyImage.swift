import Foundation
import Imaging

/// The kitty graphics protocol: the image as a PNG (f=100), base64 in chunks of 4096 bytes
/// (m=1 on all but the last), transmitted and shown at once (a=T) scaled to `columns × rows`
/// cells (c, r), with the cursor left where it was (C=1) and no replies (q=2), so that
/// nothing comes back into the program's input.
public enum KittyImage {
    public static let chunkBytes = 4096

    public static func escape(_ image: RGBImage, columns: Int, rows: Int) throws -> String {
        let png = try PNGEncoder.encode(PixelImage(width: image.width, height: image.height, channels: 3, pixels: image.bytes))
        let payload = Data(png).base64EncodedString()
        var chunks: [Substring] = []
        var start = payload.startIndex
        while start < payload.endIndex {
            let end = payload.index(start, offsetBy: chunkBytes, limitedBy: payload.endIndex) ?? payload.endIndex
            chunks.append(payload[start..<end])
            start = end
        }
        var text = ""
        for (i, chunk) in chunks.enumerated() {
            let more = i < chunks.count - 1 ? 1 : 0
            let keys = i == 0 ? "a=T,f=100,c=\(columns),r=\(rows),C=1,q=2,m=\(more)" : "m=\(more)"
            text += "\u{1B}_G\(keys);\(chunk)\u{1B}\\"
        }
        return text
    }

    /// Deletes every image kitty shows (placements and data).
    public static let deleteAll = "\u{1B}_Ga=d,d=A,q=2\u{1B}\\"
}
