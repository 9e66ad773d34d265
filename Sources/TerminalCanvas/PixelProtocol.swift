import Imaging

/// Terminal graphics protocols that draw real pixels, and which one a terminal speaks.
public enum PixelProtocol: String, CaseIterable, Sendable {
    case kitty, sixel, iterm
    /// Kitty's protocol from inside tmux: passthrough and Unicode placeholders
    /// (`KittyPlaceholders`), chosen where tmux says its client is kitty and lets it pass.
    case kittyInTmux = "kitty in tmux"

    /// The protocol the environment names for certain, or nil (cells) when it is unsure.
    ///
    /// Only what a terminal itself sets is trusted: kitty's `KITTY_WINDOW_ID` and its
    /// terminfo name, Ghostty's and WezTerm's `TERM_PROGRAM` (both speak kitty's protocol),
    /// iTerm2's, and the sixel terminals whose `TERM` says so (foot, mlterm, contour).
    /// Inside tmux or screen the variables are inherited from the outer terminal while its
    /// protocol may not pass (kitty needs `allow-passthrough`, sixel a tmux built with it),
    /// so the environment decides nothing there: asking the terminal does (`TerminalReplies`).
    public static func detect(environment: [String: String]) -> PixelProtocol? {
        let term = environment["TERM"] ?? ""
        if environment["TMUX"] != nil || term.hasPrefix("screen") || term.hasPrefix("tmux") { return nil }
        let program = (environment["TERM_PROGRAM"] ?? "").lowercased()
        if environment["KITTY_WINDOW_ID"] != nil || term == "xterm-kitty" || term == "xterm-ghostty"
            || program == "ghostty" || program == "wezterm" || environment["WEZTERM_EXECUTABLE"] != nil {
            return .kitty
        }
        if program == "iterm.app" { return .iterm }
        if term.hasPrefix("foot") || term.hasPrefix("mlterm") || term.hasPrefix("contour") { return .sixel }
        return nil
    }

    /// The escape sequence that draws `image` over `columns × rows` cells from the cursor,
    /// which is at screen column `column` (1-based). `slot` tells apart the pictures shown
    /// together, for the protocols that name them (kitty's placeholders).
    public func escape(_ image: RGBImage, columns: Int, rows: Int, column: Int, slot: Int = 0) throws -> String {
        switch self {
        case .kitty: return try KittyImage.escape(image, columns: columns, rows: rows)
        case .sixel: return SixelImage.escape(image)
        case .iterm: return try ITermImage.escape(image, columns: columns, rows: rows)
        case .kittyInTmux:
            guard columns <= KittyPlaceholders.maximumCells, rows <= KittyPlaceholders.maximumCells else {
                throw TooLarge(columns: columns, rows: rows)
            }
            return try KittyPlaceholders.escape(image, id: KittyPlaceholders.id(slot: slot),
                                                columns: columns, rows: rows, column: column)
        }
    }

    /// A picture wider or taller than kitty's placeholders can number.
    public struct TooLarge: Error, CustomStringConvertible {
        public let columns: Int, rows: Int
        public var description: String {
            "a picture of \(columns)×\(rows) cells is more than kitty's placeholders can address (\(KittyPlaceholders.maximumCells) each way)"
        }
    }
}

/// An RGB raster for the graphics protocols, row-major.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let pixels: [RGB]

    public init(width: Int, height: Int, pixels: [RGB]) {
        precondition(pixels.count == width * height)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    var bytes: [UInt8] { pixels.flatMap { [$0.r, $0.g, $0.b] } }

    /// The picture as a PNG file's bytes, the form kitty and iTerm2 take it in.
    func png() throws -> [UInt8] {
        try PNGEncoder.encode(PixelImage(width: width, height: height, channels: 3, pixels: bytes))
    }
}
