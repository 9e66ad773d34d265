/// Where `PackedGEMM` finds each row of its left operand, segment by segment: the
/// indirection that turns a convolution into one matrix product without copying patches.
///
/// Row r of the product (an output pixel) multiplies, for each segment s (a kernel offset),
/// the `channels` values starting at `offset(r, s)` in the feature map (channels-last, so a
/// pixel's channels are contiguous), or zeros where the offset falls in the padding. A 1×1
/// convolution is one segment whose rows follow each other; a strided one skips pixels; a
/// 3×3 one has nine segments. Rows past the last, up to a whole block of either kernel,
/// read zeros and their results are dropped.
public struct RowTable: Sendable {
    public let rows: Int
    public let segments: Int
    /// `[row][segment]` offsets into the feature map, rows padded to a multiple of
    /// `rowMultiple`; `RowTable.zeros` for a row of zeros.
    let offsets: [Int]

    static let zeros = -1
    /// Rows are padded to a multiple of every kernel's block height (6, 7 and 8).
    static let rowMultiple = 168

    /// `offset(row, segment)`: where the row's values for that segment start, nil for zeros.
    public init(rows: Int, segments: Int, _ offset: (_ row: Int, _ segment: Int) -> Int?) {
        self.rows = rows
        self.segments = segments
        let padded = (rows + Self.rowMultiple - 1) / Self.rowMultiple * Self.rowMultiple
        offsets = [Int](unsafeUninitializedCapacity: padded * segments) { table, initialized in
            for row in 0..<padded {
                for s in 0..<segments {
                    table[row * segments + s] = row < rows ? offset(row, s) ?? Self.zeros : Self.zeros
                }
            }
            initialized = padded * segments
        }
    }

    /// `rows` rows `stride` values apart, one segment: a plain row-major matrix.
    public static func contiguous(rows: Int, stride: Int) -> RowTable {
        RowTable(rows: rows, segments: 1) { row, _ in row * stride }
    }

    /// The rows of a k×k convolution over a channels-last `height × width` map with `channels`
    /// values per pixel: output pixel (y, x) reads input pixel (y·stride + ky − top,
    /// x·stride + kx − left) for the segment ky·k + kx, zeros outside the map.
    public static func convolution(height: Int, width: Int, channels: Int, kernel: Int, stride: Int,
                                   top: Int, left: Int, outputHeight: Int, outputWidth: Int) -> RowTable {
        RowTable(rows: outputHeight * outputWidth, segments: kernel * kernel) { row, segment in
            let y = row / outputWidth * stride + segment / kernel - top
            let x = row % outputWidth * stride + segment % kernel - left
            guard y >= 0, y < height, x >= 0, x < width else { return nil }
            return (y * width + x) * channels
        }
    }
}
