/// What a terminal's replies to the graphics probe say (see `TerminalProbe`): the probe is
/// a kitty graphics query (a 1×1 image, action "query", id 31) followed by DA1, which every
/// terminal answers; a terminal that speaks kitty's protocol answers the query first with
/// `ESC _ G i=31;OK ESC \`, and a sixel terminal lists attribute 4 in its DA1 reply
/// `ESC [ ? 62;4;… c`.
public enum TerminalReplies {
    public static let probe = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[c"

    /// The cell-size query (XTWINOPS 16: `ESC [ 6 ; height ; width t`), then DA1 as the end
    /// marker, for terminals whose `TIOCGWINSZ` has no pixel size.
    public static let cellSizeProbe = "\u{1B}[16t\u{1B}[c"

    /// A cell's width and height in pixels from a reply to `cellSizeProbe`.
    public static func cellSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let start = text.range(of: "\u{1B}[6;") else { return nil }
        let rest = text[start.upperBound...]
        guard let end = rest.firstIndex(of: "t") else { return nil }
        let numbers = rest[..<end].split(separator: ";").compactMap { Int($0) }
        guard numbers.count == 2, numbers[0] > 0, numbers[1] > 0, numbers[0] < 1000, numbers[1] < 1000 else { return nil }
        return (numbers[1], numbers[0])
    }

    /// True once `bytes` hold a complete DA1 reply: the end of what the probe asks.
    public static func isComplete(_ bytes: [UInt8]) -> Bool { da1Attributes(bytes) != nil }

    /// The protocol the replies show, or nil (cells) when they show none or are incomplete.
    public static func pixelProtocol(_ bytes: [UInt8]) -> PixelProtocol? {
        guard let attributes = da1Attributes(bytes) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("\u{1B}_Gi=31;OK") { return .kitty }
        return attributes.contains(4) ? .sixel : nil
    }

    /// The numbers of the DA1 reply `ESC [ ? n;n;… c`.
    static func da1Attributes(_ bytes: [UInt8]) -> [Int]? {
        guard let start = (0..<max(0, bytes.count - 2)).first(where: { bytes[$0] == 0x1B && bytes[$0 + 1] == 0x5B && bytes[$0 + 2] == 0x3F })
        else { return nil }
        var numbers: [Int] = [], current = 0, digits = 0
        for byte in bytes[(start + 3)...] {
            switch byte {
            case 0x30...0x39: current = current * 10 + Int(byte - 0x30); digits += 1
            case 0x3B: numbers.append(current); current = 0; digits = 0
            case 0x63: if digits > 0 { numbers.append(current) }; return numbers
            default: return nil
            }
        }
        return nil
    }
}
