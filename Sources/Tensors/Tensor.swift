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

    /// Transpose of a rank-2 tensor, in 32×32 tiles so that both sides stay in cache.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got shape \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        var result = Tensor(uninitialized: [columns, rows])
        let tile = 32
        scalars.withUnsafeBufferPointer { sourceBuffer in
            result.scalars.withUnsafeMutableBufferPointer { targetBuffer in
                guard let source = sourceBuffer.baseAddress, let target = targetBuffer.baseAddress else { return }
                for r0 in stride(from: 0, to: rows, by: tile) {
                    for c0 in stride(from: 0, to: columns, by: tile) {
                        for r in r0..<min(rows, r0 + tile) {
                            for c in c0..<min(columns, c0 + tile) { target[c * rows + r] = source[r * columns + c] }
                        }
                    }
                }
            }
        }
        return result
    }
}
