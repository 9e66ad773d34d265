import Imaging
import Pooling
import Tensors
import TerminalCanvas

/// Draws the three kinds of panel (image, map, overlay) into a box of cells, keeping the
/// image's aspect ratio (cells are twice as tall as wide).
public struct PanelPainter: Sendable {
    public let rasterizer: Rasterizer

    public init(rasterizer: Rasterizer) { self.rasterizer = rasterizer }

    /// Pixel size of the largest image-shaped area that fits `columns × rows` cells.
    public func fit(imageWidth: Int, imageHeight: Int, columns: Int, rows: Int)
        -> (columns: Int, rows: Int, pixelColumns: Int, pixelRows: Int) {
        guard imageWidth > 0, imageHeight > 0, columns > 0, rows > 0 else { return (0, 0, 0, 0) }
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
        return (fittedColumns, fittedRows, fittedColumns * rasterizer.pixelsAcross, fittedRows * rasterizer.pixelsDown)
    }

    /// The image resampled to the pixels of its box: computed once per frame and shared by
    /// the image and overlay panels.
    public struct Fitted: Sendable {
        public let columns: Int
        public let rows: Int
        public let pixels: [RGB]
    }

    public func fitted(_ image: PixelImage, columns: Int, rows: Int) -> Fitted {
        let box = fit(imageWidth: image.width, imageHeight: image.height, columns: columns, rows: rows)
        guard box.columns > 0 else { return Fitted(columns: 0, rows: 0, pixels: []) }
        let key = FittedKey(pixels: image.pixels, width: image.width, height: image.height, channels: image.channels,
                            targetWidth: box.pixelColumns, targetHeight: box.pixelRows)
        let pixels = Self.fittedCache.value(for: key) {
            Resampler.resize(image.rgb(), width: box.pixelColumns, height: box.pixelRows, filter: .bilinear).rgbPixels
        }
        return Fitted(columns: box.columns, rows: box.rows, pixels: pixels)
    }

    public func image(_ image: PixelImage, columns: Int, rows: Int) -> CellGrid {
        self.image(fitted(image, columns: columns, rows: rows))
    }

    public func image(_ fitted: Fitted) -> CellGrid {
        guard fitted.columns > 0 else { return CellGrid(width: 0, height: 0) }
        return rasterizer.cells(rgb: fitted.pixels, columns: fitted.columns, rows: fitted.rows)
    }

    /// A map on its patch grid, upsampled (nearest: one block per patch) to the image's shape.
    public func map(_ values: [Float], gridHeight: Int, gridWidth: Int, imageWidth: Int, imageHeight: Int,
                    columns: Int, rows: Int, colormap: Colormap) -> CellGrid {
        let box = fit(imageWidth: imageWidth, imageHeight: imageHeight, columns: columns, rows: rows)
        guard box.columns > 0 else { return CellGrid(width: 0, height: 0) }
        let field = MapProcessing.nearest(values, gridHeight: gridHeight, gridWidth: gridWidth,
                                          height: box.pixelRows, width: box.pixelColumns)
        return rasterizer.cells(field: field, columns: box.columns, rows: box.rows, colormap: colormap)
    }

    /// The image with the colormapped map blended over it at `opacity`.
    public func overlay(_ image: PixelImage, values: [Float], gridHeight: Int, gridWidth: Int,
                        columns: Int, rows: Int, colormap: Colormap, opacity: Float) -> CellGrid {
        overlay(fitted(image, columns: columns, rows: rows), values: values, gridHeight: gridHeight,
                gridWidth: gridWidth, colormap: colormap, opacity: opacity)
    }

    public func overlay(_ fitted: Fitted, values: [Float], gridHeight: Int, gridWidth: Int,
                        colormap: Colormap, opacity: Float) -> CellGrid {
        guard fitted.columns > 0 else { return CellGrid(width: 0, height: 0) }
        let field = MapProcessing.nearest(values, gridHeight: gridHeight, gridWidth: gridWidth,
                                          height: fitted.rows * rasterizer.pixelsDown,
                                          width: fitted.columns * rasterizer.pixelsAcross)
        let blended = zip(fitted.pixels, field).map { $0.blended(with: colormap.color($1), amount: opacity * $1) }
        return rasterizer.cells(rgb: blended, columns: fitted.columns, rows: fitted.rows)
    }

    /// The titled panels of a view: image | map | overlay side by side, or one of them.
    public func panels(view: ExplorerState.View, image: PixelImage, map: MapComputation, values: [Float],
                       columns: Int, rows: Int, colormap: Colormap, opacity: Float) -> [(title: String, grid: CellGrid)] {
        let fitted = self.fitted(image, columns: columns, rows: rows)
        func mapPanel() -> CellGrid {
            self.map(values, gridHeight: map.gridHeight, gridWidth: map.gridWidth, imageWidth: image.width,
                     imageHeight: image.height, columns: columns, rows: rows, colormap: colormap)
        }
        func overlayPanel() -> CellGrid {
            overlay(fitted, values: values, gridHeight: map.gridHeight, gridWidth: map.gridWidth, colormap: colormap, opacity: opacity)
        }
        switch view {
        case .side: return [("image", self.image(fitted)), ("map " + map.methodText, mapPanel()), ("overlay", overlayPanel())]
        case .map: return [("map " + map.methodText, mapPanel())]
        case .overlay: return [("overlay " + map.methodText, overlayPanel())]
        case .image: return [("image", self.image(fitted))]
        }
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
            if rasterizer.mode != .none && rasterizer.symbols != .ascii {
                cell = Cell("█", foreground: cell.foreground)
            }
            grid[0, column] = cell
            column += 1
        }
        grid.write(" high", row: 0, column: column)
        return grid
    }
}

/// What a panel-sized image is made from: the source pixels themselves and both sizes.
struct FittedKey: Equatable {
    let pixels: [UInt8]
    let width: Int, height: Int, channels: Int
    let targetWidth: Int, targetHeight: Int
}

extension PanelPainter {
    /// The last image resampled for a panel. Every key press composes a new frame, but the
    /// image and the panel size rarely change between two frames; resampling a photo to
    /// the panel was the largest part of a frame after pooling.
    static let fittedCache = LastValueCache<FittedKey, [RGB]>()
}
