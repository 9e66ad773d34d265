import Foundation

/// iTerm2's inline images (OSC 1337 File=): a base64 PNG shown over `columns × rows` cells,
/// stretched to them exactly (the image already has the panel's shape).
public enum ITermImage {
    public static func escape(_ image: RGBImage, columns: Int, rows: Int) throws -> String {
        let png = try image.png()
        return "\u{1B}]1337;File=inline=1;size=\(png.count);width=\(columns);height=\(rows);preserveAspectRatio=0:"
            + Data(png).base64EncodedString() + "\u{07}"
    }
}
