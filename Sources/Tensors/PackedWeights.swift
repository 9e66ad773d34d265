/// The right operand of `PackedGEMM`: a convolution's weights, packed once when the model
/// loads into the order the kernel reads them.
///
/// The matrix is `depth × columns` (depth = input side, columns = output channels), its
/// depth made of `segments` runs of `channels` values: a k×k convolution's kernel offsets,
/// each over the input channels, so that the row of the feature map a segment multiplies
/// can change from one segment to the next (see `RowTable`). Columns are cut into panels
/// as wide as the kernel's block (16 or 32), the last one padded with zeros; the channels
/// into blocks whose panel slice (16 or 32 KB, `MicrokernelShape.sliceBytes`) stays in L1
/// beside the feature-map rows it meets.
///
/// Storage: channel block after channel block; within one, panel after panel; within a
/// panel, segment after segment, each `block length × width` values, channel by channel.
/// A product reads each (block, panel) slice front to back.
public struct PackedWeights: Sendable {
    public let segments: Int
    public let channels: Int
    public let columns: Int
    /// The kernel the panels are cut for.
    public let microkernel: MicrokernelShape
    /// Channels per block (the last block may be shorter).
    public let channelBlock: Int
    /// The memory (from `WeightArena`, in huge pages) the packed values are in, and where.
    let owner: WeightChunk
    private let byteOffset: Int, count: Int

    /// The packed values; valid while this value (which keeps their memory) is alive.
    var storage: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: (owner.base + byteOffset).assumingMemoryBound(to: Float.self), count: count)
    }

    var panelWidth: Int { microkernel.columns }
    public var depth: Int { segments * channels }
    public var panels: Int { (columns + panelWidth - 1) / panelWidth }
    public var channelBlocks: Int { (channels + channelBlock - 1) / channelBlock }

    /// `values`: row-major `depth × columns`, row `s · channels + c` holding segment s's
    /// channel c; or, `transposed`, row-major `columns × depth` (PyTorch's `[out, in]`
    /// layout of a linear layer), packed without a transposed copy.
    public init(_ values: UnsafePointer<Float>, segments: Int, channels: Int, columns: Int,
                microkernel: MicrokernelShape = .preferred, transposed: Bool = false) {
        precondition(segments > 0 && channels > 0 && columns > 0)
        self.segments = segments
        self.channels = channels
        self.columns = columns
        self.microkernel = microkernel
        let width = microkernel.columns, panels = (columns + width - 1) / width
        // As few blocks as keep a slice within `sliceBytes`, of equal length.
        let blockSteps = microkernel.sliceBytes / (width * 4)
        let blocks = max(1, (segments * channels + blockSteps - 1) / blockSteps)
        let channelBlock = (channels + blocks - 1) / blocks
        self.channelBlock = channelBlock
        // Zeroed memory: the last panel's columns past `columns` stay zero.
        let count = panels * segments * channels * width
        let (owner, packed) = WeightArena.allocate(count: count)
        for start in stride(from: 0, to: channels, by: channelBlock) {
            let length = min(channelBlock, channels - start)
            for panel in 0..<panels {
                let slice = (segments * start * panels + panel * segments * length) * width
                let first = panel * width, count = min(width, columns - first)
                for s in 0..<segments {
                    if transposed {
                        // Each source row read in order; the slice written (it stays in L1).
                        for x in 0..<count {
                            let source = values + (first + x) * segments * channels + s * channels + start
                            for c in 0..<length { packed[slice + (s * length + c) * width + x] = source[c] }
                        }
                    } else {
                        for c in 0..<length {
                            let source = values + (s * channels + start + c) * columns + first
                            let target = slice + (s * length + c) * width
                            for x in 0..<count { packed[target + x] = source[x] }
                        }
                    }
                }
            }
        }
        self.owner = owner
        byteOffset = UnsafeMutableRawPointer(packed) - owner.base
        self.count = count
    }

    /// A rank-2 tensor `[depth, columns]` of one segment.
    public init(_ matrix: Tensor, microkernel: MicrokernelShape = .preferred) {
        precondition(matrix.rank == 2, "PackedWeights needs a matrix, got shape \(matrix.shape)")
        self = matrix.scalars.withUnsafeBufferPointer {
            PackedWeights($0.baseAddress!, segments: 1, channels: matrix.shape[0], columns: matrix.shape[1], microkernel: microkernel)
        }
    }

    /// Where the slice of channel block `block` and panel `panel` begins in `storage`.
    @inline(__always)
    func offset(block: Int, panel: Int) -> Int {
        let start = block * channelBlock, length = min(channelBlock, channels - start)
        return (segments * start * panels + panel * segments * length) * panelWidth
    }
}
