import Imaging
import Pooling
import TerminalCanvas

/// Draws the three kinds of panel (image, map, overlay) into a box of cells, keeping the
/// image's aspect ratio (cells are twice as tall as wide).
public struct PanelPainter: Sendable {
    public let rasterizer: Rasterizer

    public init(rasterizer: Rasterizer) { self.rasterizer = rasterizer }

    /// Pixel size of the largest image-shaped area that fits `columns × rows` cells.
    public func fit(imageWidth: Int, imageHeight: Int, columns: Int, rows: Int) -> (columns: Int, rows: Int, pixelRows: Int) {
        guard imageWidth > 0, imageHeight > 0, columns > 0, rows > 0 else { return (0, 0, 0) }
        let aspect = Double(imageWidth) / Double(imageHeight)
        // In square units a cell is 1 wide and 2 tall.
        var width = Double(columns)
        var height = width / aspect
        if height > Double(2 * rows) {
            height = Double(2 * rows)
            width = height * aspect
        }
        let fittedColumns = max(1, min(columns, Int(width.rounded())))
        let fittedRows = max(1, min(rows, Int((height / 2).rounded())))
        return (fittedColumns, fittedRows, fittedRows * rasterizer.pixelsPerCell)
    }

    public func image(_ image: PixelImage, columns: Int, rows: Int) -> CellGrid {
        let box = fit(imageWidth: image.width, imageHeight: image.height, columns: columns, rows: rows)
        guard box.columns > 0 else { return CellGrid(width: 0, height: 0) }
        let pixels = Resampler.resize(image.rgb(), width: box.columns, height: box.pixelRows, filter: .bilinear).rgbPixels
        return rasterizer.cells(rgb: pixels, columns: box.columns, rows: box.rows)
    }

    /// A map on its patch grid, upsampled (nearest: one block per patch) to the image's shape.
    public func map(_ values: [Float], gridHeight: Int, gridWidth: Int, imageWidth: Int, imageHeight: Int,
                    columns: Int, rows: Int, colormap: Colormap) -> CellGrid {
        let box = fit(imageWidth: imageWidth, imageHeight: imageHeight, columns: columns, rows: rows)
        guard box.columns > 0 else { return CellGrid(width: 0, height: 0) }
        let field = MapProcessing.nearest(values, gridHeight: gridHeight, gridWidth: gridWidth,
                                          height: box.pixelRows, width: box.columns)
        return rasterizer.cells(field: field, columns: box.columns, rows: box.rows, colormap: colormap)
    }

    /// The image with the colormapped map blended over it at `opacity`.
    public func overlay(_ image: PixelImage, values: [Float], gridHeight: Int, gridWidth: Int,
                        columns: Int, rows: Int, colormap: Colormap, opacity: Float) -> CellGrid {
        let box = fit(imageWidth: image.width, imageHeight: image.height, columns: columns, rows: rows)
        guard box.columns > 0 else { return CellGrid(width: 0, height: 0) }
        let pixels = Resampler.resize(image.rgb(), width: box.columns, height: box.pixelRows, filter: .bilinear).rgbPixels
        let field = MapProcessing.nearest(values, gridHeight: gridHeight, gridWidth: gridWidth,
                                          height: box.pixelRows, width: box.columns)
        let blended = zip(pixels, field).map { $0.blended(with: colormap.color($1), amount: opacity * $1) }
        return rasterizer.cells(rgb: blended, columns: box.columns, rows: box.rows)
    }

    /// A colour scale: `low ▮▮▮…▮ high`.
    public func legend(width: Int, colormap: Colormap) -> CellGrid {
        let barWidth = max(1, width - 9)
        var grid = CellGrid(width: width, height: 1)
        var column = grid.write("low ", row: 0, column: 0)
        let values = (0..<barWidth).map { Float($0) / Float(max(1, barWidth - 1)) }
        let bar = Rasterizer(mode: rasterizer.mode, symbols: .ascii)
            .cells(field: values, columns: barWidth, rows: 1, colormap: colormap)
        for c in 0..<barWidth where column < width {
            var cell = bar[0, c]
            if rasterizer.mode != .none && rasterizer.symbols == .half {
                cell = Cell("█", foreground: cell.foreground)
            }
            grid[0, column] = cell
            column += 1
        }
        grid.write(" high", row: 0, column: column)
        return grid
    }
}
