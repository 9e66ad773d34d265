/// A dense, row-major Float32 tensor with value semantics.
///
/// Kept deliberately plain: a shape and a flat array. Hot loops take the flat storage
/// through `withUnsafe…` and call BLAS or the vector kernels in `VectorMath`.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) does not hold \(scalars.count) scalars")
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose scalars are about to be overwritten entirely (by BLAS with beta 0, or a
    /// kernel that writes every element): it skips zero-filling, which for the large
    /// activations of a forward pass is a measurable memory pass of its own.
    public init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.init(shape: shape, scalars: [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = count
        })
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// Same scalars, another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Row-major element offset of a multi-index.
    @inlinable
    public func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) ≠ tensor rank \(rank)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(index) out of bounds for \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }

    public subscript(index: Int...) -> Float {
        get { scalars[offset(of: index)] }
        set { scalars[offset(of: index)] = newValue }
    }

    /// Rows `range` of a rank-2 tensor.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank == 2 && range.lowerBound >= 0 && range.upperBound <= shape[0])
        let width = shape[1]
        return Tensor(shape: [range.count, width],
                      scalars: Array(scalars[(range.lowerBound * width)..<(range.upperBound * width)]))
    }

    /// Transpose of a rank-2 tensor in 8×8 blocks held in vector registers (whole cache
    /// lines read and written), column blocks split across the compute threads.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got shape \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        var result = Tensor(uninitialized: [columns, rows])
        scalars.withUnsafeBufferPointer { sourceBuffer in
            result.scalars.withUnsafeMutableBufferPointer { targetBuffer in
                guard let source = sourceBuffer.baseAddress, let target = targetBuffer.baseAddress else { return }
                nonisolated(unsafe) let (from, to) = (source, target)
                let blocks = (columns + 7) / 8
                ComputeThreads.parallelFor(blocks, minimumPerThread: max(1, 16384 / max(1, rows * 8))) { range in
                    for block in range {
                        let c0 = block * 8
                        var r0 = 0
                        if c0 + 8 <= columns {
                            while r0 + 8 <= rows {
                                Self.transpose8x8(from + r0 * columns + c0, columns, to + c0 * rows + r0, rows)
                                r0 += 8
                            }
                        }
                        for c in c0..<min(columns, c0 + 8) {
                            for r in r0..<rows { to[c * rows + r] = from[r * columns + c] }
                        }
                    }
                }
            }
        }
        return result
    }

    /// One 8×8 block: three rounds of splitting vector pairs into even and odd lanes. Each
    /// round rotates the 6-bit (row, lane) index of every element right by one bit, so
    /// after three, row and lane have traded places.
    @inline(__always)
    private static func transpose8x8(_ source: UnsafePointer<Float>, _ sourceStride: Int,
                                     _ target: UnsafeMutablePointer<Float>, _ targetStride: Int) {
        typealias Lanes = SIMD8<Float>
        typealias Block = (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes, Lanes, Lanes)
        @inline(__always) func row(_ i: Int) -> Lanes { UnsafeRawPointer(source + i * sourceStride).loadUnaligned(as: Lanes.self) }
        @inline(__always) func round(_ v: Block) -> Block {
            let (p0, p1) = (SIMD16(lowHalf: v.0, highHalf: v.1), SIMD16(lowHalf: v.2, highHalf: v.3))
            let (p2, p3) = (SIMD16(lowHalf: v.4, highHalf: v.5), SIMD16(lowHalf: v.6, highHalf: v.7))
            return (p0.evenHalf, p1.evenHalf, p2.evenHalf, p3.evenHalf, p0.oddHalf, p1.oddHalf, p2.oddHalf, p3.oddHalf)
        }
        let v = round(round(round((row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7)))))
        @inline(__always) func store(_ i: Int, _ value: Lanes) {
            UnsafeMutableRawPointer(target + i * targetStride).storeBytes(of: value, as: Lanes.self)
        }
        store(0, v.0); store(1, v.1); store(2, v.2); store(3, v.3)
        store(4, v.4); store(5, v.5); store(6, v.6); store(7, v.7)
    }
}
