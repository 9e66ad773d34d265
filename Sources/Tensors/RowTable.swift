/// Where `PackedGEMM` finds each row of its left operand, segment by segment: the
/// indirection that turns a convolution into one matrix product without copying patches.
///
/// Row r of the product (an output pixel) multiplies, for each segment s (a kernel offset),
/// the `channels` values starting at `offset(r, s)` in the feature map (channels-last, so a
/// pixel's channels are contiguous), or zeros where the offset falls in the padding. A 1×1
/// convolution is one segment whose rows follow each other; a strided one skips pixels; a
/// 3×3 one has nine segments. Rows are stored in groups of six (the kernel's block), the
/// last group padded with zero rows whose results are dropped.
public struct RowTable: Sendable {
    public let rows: Int
    public let segments: Int
    /// `[group][segment][6]` offsets into the feature map; `RowTable.zeros` for a zero row.
    let offsets: [Int]

    static let zeros = -1
    static let groupRows = 6

    public var groups: Int { (rows + Self.groupRows - 1) / Self.groupRows }

    /// `offset(row, segment)`: where the row's values for that segment start, nil for zeros.
    public init(rows: Int, segments: Int, _ offset: (_ row: Int, _ segment: Int) -> Int?) {
        self.rows = rows
        self.segments = segments
        let groups = (rows + Self.groupRows - 1) / Self.groupRows
        offsets = [Int](unsafeUninitializedCapacity: groups * segments * Self.groupRows) { table, initialized in
            for g in 0..<groups {
                for s in 0..<segments {
                    for r in 0..<Self.groupRows {
                        let row = g * Self.groupRows + r
                        table[(g * segments + s) * Self.groupRows + r] = row < rows ? offset(row, s) ?? Self.zeros : Self.zeros
                    }
                }
            }
            initialized = groups * segments * Self.groupRows
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
