import Checkpoints
import Foundation
import Imaging
import Pooling
import TerminalCanvas

/// The bytes of each export format for one map.
public enum MapFiles {
    /// The raw map on its grid, or upsampled (nearest: one block per patch) to `size`.
    public static func values(_ map: MapComputation, size: (width: Int, height: Int)?) -> (values: [Float], width: Int, height: Int) {
        guard let size else { return (map.result.map, map.gridWidth, map.gridHeight) }
        let values = MapProcessing.nearest(map.result.map, gridHeight: map.gridHeight, gridWidth: map.gridWidth,
                                           height: size.height, width: size.width)
        return (values, size.width, size.height)
    }

    /// The map min–max scaled through a colormap, as an RGB PNG.
    public static func png(_ map: MapComputation, size: (width: Int, height: Int)?, colormap: Colormap) throws -> [UInt8] {
        let (values, width, height) = self.values(map, size: size)
        return try PNGEncoder.encode(PixelImage(width: width, height: height, channels: 3,
                                                pixels: rgbBytes(MapProcessing.minMax(values).map(colormap.color))))
    }

    /// The image with the colormapped map blended over it, at the image's size.
    public static func overlay(_ map: MapComputation, image: PixelImage, colormap: Colormap, opacity: Float) throws -> [UInt8] {
        let rgb = image.rgb()
        let field = MapProcessing.minMax(MapProcessing.nearest(map.result.map, gridHeight: map.gridHeight, gridWidth: map.gridWidth,
                                                               height: rgb.height, width: rgb.width))
        let blended = zip(rgb.rgbPixels, field).map { $0.blended(with: colormap.color($1), amount: opacity * $1) }
        return try PNGEncoder.encode(PixelImage(width: rgb.width, height: rgb.height, channels: 3, pixels: rgbBytes(blended)))
    }

    public static func npy(_ map: MapComputation, size: (width: Int, height: Int)?) -> [UInt8] {
        let (values, width, height) = self.values(map, size: size)
        return NPYFile.encode(values, shape: [height, width])
    }

    /// One line per map row, values in shortest round-trip form.
    public static func csv(_ map: MapComputation, size: (width: Int, height: Int)?) -> [UInt8] {
        let (values, width, height) = self.values(map, size: size)
        var text = ""
        for row in 0..<height {
            text += values[(row * width)..<((row + 1) * width)].map { "\($0)" }.joined(separator: ",") + "\n"
        }
        return Array(text.utf8)
    }

    static func rgbBytes(_ colors: [RGB]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(colors.count * 3)
        for color in colors { bytes += [color.r, color.g, color.b] }
        return bytes
    }
}
