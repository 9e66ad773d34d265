/// Sixel: the image quantised to the 216-colour cube (six levels a channel, 0, 51, …, 255,
/// which sixel's percentages 0, 20, …, 100 spell exactly), then drawn in bands of six rows,
/// one pass per colour present in the band, with run-length repeats.
public enum SixelImage {
    /// The cube level of one 8-bit channel: the nearest of 0, 51, …, 255.
    static func level(_ value: UInt8) -> Int { (Int(value) + 25) / 51 }

    /// What a pixel becomes once quantised: the colour a decoder shows.
    public static func quantised(_ pixel: RGB) -> RGB {
        RGB(UInt8(level(pixel.r) * 51), UInt8(level(pixel.g) * 51), UInt8(level(pixel.b) * 51))
    }

    public static func escape(_ image: RGBImage) -> String {
        let (width, height) = (image.width, image.height)
        let indices = image.pixels.map { level($0.r) * 36 + level($0.g) * 6 + level($0.b) }
        let used = Set(indices).sorted()
        // DCS P1=0 (aspect 2:1 default, overridden by the raster attributes), P2=1 (pixels
        // not drawn keep the background), then "Pan;Pad;Ph;Pv: square pixels, the size.
        var text = "\u{1B}P0;1;0q\"1;1;\(width);\(height)"
        for index in used {
            let (r, g, b) = (index / 36, index / 6 % 6, index % 6)
            text += "#\(index);2;\(r * 20);\(g * 20);\(b * 20)"
        }
        var band = 0
        while band * 6 < height {
            let top = band * 6, bottom = min(height, top + 6)
            var present = Set<Int>()
            for y in top..<bottom { for x in 0..<width { present.insert(indices[y * width + x]) } }
            for (n, index) in present.sorted().enumerated() {
                if n > 0 { text += "$" }
                text += "#\(index)"
                var run: (character: UInt8, count: Int)? = nil
                func flush() {
                    guard let current = run else { return }
                    let character = String(UnicodeScalar(current.character))
                    text += current.count > 3 ? "!\(current.count)" + character : String(repeating: character, count: current.count)
                }
                for x in 0..<width {
                    var bits: UInt8 = 0
                    for y in top..<bottom where indices[y * width + x] == index { bits |= 1 << UInt8(y - top) }
                    let character = 63 + bits
                    if let current = run, current.character == character {
                        run = (character, current.count + 1)
                    } else {
                        flush()
                        run = (character, 1)
                    }
                }
                flush()
            }
            text += "-"
            band += 1
        }
        return text + "\u{1B}\\"
    }
}
