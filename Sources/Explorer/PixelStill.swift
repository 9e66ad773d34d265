import Imaging
import Pooling
import TerminalCanvas

/// A still with real pixels: the panels as images in a terminal graphics protocol, placed
/// over the cells the cell still would use, then the colour scale and caption as text.
public struct PixelStill: Sendable {
    public let pixelProtocol: PixelProtocol
    /// One cell's size in pixels (from the terminal, else a common 10 × 20).
    public let cellWidth: Int
    public let cellHeight: Int

    public init(pixelProtocol: PixelProtocol, cellWidth: Int = 10, cellHeight: Int = 20) {
        self.pixelProtocol = pixelProtocol
        self.cellWidth = max(1, cellWidth)
        self.cellHeight = max(1, cellHeight)
    }

    /// The panels of a view at `columns × rows` cells each, as pixels. The photo and the
    /// upsampled map are made once each and shared by the panels that show them.
    func panels(view: ExplorerState.View, image: PixelImage, map: MapComputation, values: [Float], columns: Int, rows: Int,
                colormap: Colormap, opacity: Float, query: (row: Int, column: Int)?) -> [RGBImage] {
        let (width, height) = (columns * cellWidth, rows * cellHeight)
        let photo = view == .map ? [] : Self.photo(image, width: width, height: height)
        let field = view == .image ? [] : Self.field(values, map: map, width: width, height: height)
        func finish(_ pixels: [RGB]) -> RGBImage {
            Self.framed(pixels, width: width, height: height, query: query, grid: (map.gridHeight, map.gridWidth))
        }
        switch view {
        case .side: return [finish(photo), finish(Self.colored(field, colormap)), finish(Self.blended(photo, field, colormap, opacity))]
        case .map: return [finish(Self.colored(field, colormap))]
        case .overlay: return [finish(Self.blended(photo, field, colormap, opacity))]
        case .image: return [finish(photo)]
        }
    }

    /// A grid tile over `columns × rows` cells: the photo alone (no map), or a map or its
    /// overlay with the query patch framed.
    func tile(image: PixelImage, map: MapComputation?, values: [Float], overlay: Bool, columns: Int, rows: Int,
              colormap: Colormap, opacity: Float, query: (row: Int, column: Int)?) -> RGBImage {
        let (width, height) = (columns * cellWidth, rows * cellHeight)
        guard let map else { return RGBImage(width: width, height: height, pixels: Self.photo(image, width: width, height: height)) }
        let field = Self.field(values, map: map, width: width, height: height)
        let pixels = overlay ? Self.blended(Self.photo(image, width: width, height: height), field, colormap, opacity)
            : Self.colored(field, colormap)
        return Self.framed(pixels, width: width, height: height, query: query, grid: (map.gridHeight, map.gridWidth))
    }

    static func photo(_ image: PixelImage, width: Int, height: Int) -> [RGB] {
        Resampler.resize(image.rgb(), width: width, height: height, filter: .bilinear).rgbPixels
    }

    /// The map on the picture's pixels, nearest: one block per patch.
    static func field(_ values: [Float], map: MapComputation, width: Int, height: Int) -> [Float] {
        MapProcessing.nearest(values, gridHeight: map.gridHeight, gridWidth: map.gridWidth, height: height, width: width)
    }

    static func colored(_ field: [Float], _ colormap: Colormap) -> [RGB] { field.map { colormap.color($0) } }

    static func blended(_ photo: [RGB], _ field: [Float], _ colormap: Colormap, _ opacity: Float) -> [RGB] {
        zip(photo, field).map { $0.blended(with: colormap.color($1), amount: opacity * $1) }
    }

    static func framed(_ pixels: [RGB], width: Int, height: Int, query: (row: Int, column: Int)?, grid: (Int, Int)) -> RGBImage {
        var pixels = pixels
        if let query { outline(&pixels, width: width, height: height, patch: query, grid: grid) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The query patch framed where the cell still puts its cursor: a white ring one pixel
    /// round the patch, a black one outside it, so it shows on any map or photo.
    static func outline(_ pixels: inout [RGB], width: Int, height: Int, patch: (row: Int, column: Int), grid: (Int, Int)) {
        let x0 = patch.column * width / grid.1, x1 = max(x0, (patch.column + 1) * width / grid.1 - 1)
        let y0 = patch.row * height / grid.0, y1 = max(y0, (patch.row + 1) * height / grid.0 - 1)
        for y in max(0, y0 - 2)...min(height - 1, y1 + 2) {
            for x in max(0, x0 - 2)...min(width - 1, x1 + 2) {
                let inner = x >= x0 && x <= x1 && y >= y0 && y <= y1
                guard !inner else { continue }
                let near = x >= x0 - 1 && x <= x1 + 1 && y >= y0 - 1 && y <= y1 + 1
                pixels[y * width + x] = near ? RGB(255, 255, 255) : RGB(0, 0, 0)
            }
        }
    }

    /// Room made first (newlines, then back up), so that nothing scrolls under a picture;
    /// each picture drawn from a saved cursor at its panel's column and the cursor restored;
    /// then down past the pictures.
    func place(_ images: [RGBImage], columns: Int, rows: Int, columnOf: (Int) -> Int) throws -> String {
        var text = String(repeating: "\n", count: rows) + "\u{1B}[\(rows)A"
        for (i, image) in images.enumerated() {
            let column = columnOf(i) + 1
            text += "\u{1B}7\u{1B}[\(column)G"
                + (try pixelProtocol.escape(image, columns: columns, rows: rows, column: column, slot: i)) + "\u{1B}8"
        }
        return text + "\u{1B}[\(rows)B\r"
    }

    /// Text lines with pictures over some of their cells (a grid's tiles; each box's top is
    /// the line it starts on). A picture is drawn right after its last line is printed, from
    /// a saved cursor moved up to its top, so that it lands on lines already on screen
    /// however the text scrolled before it.
    func overlay(_ pictures: [PixelFrame.Picture], on lines: [String]) throws -> String {
        var text = ""
        for (index, line) in lines.enumerated() {
            text += line + "\n"
            for (slot, picture) in pictures.enumerated() where picture.box.top + picture.box.height - 1 == index {
                let column = picture.box.left + 1
                text += "\u{1B}7\u{1B}[\(picture.box.height)A\u{1B}[\(column)G"
                    + (try pixelProtocol.escape(picture.image, columns: picture.box.width, rows: picture.box.height,
                                                column: column, slot: slot)) + "\u{1B}8"
            }
        }
        return text
    }
}
