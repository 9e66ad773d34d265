import Tensors

/// One named tensor of a checkpoint: a view (offset, shape, strides in elements) into a
/// storage that still lives in the mapped file. Values are converted only when asked for.
public struct WeightTensor: Sendable {
    public private(set) var name: String
    public let dtype: ScalarType
    public let shape: [Int]
    public let strides: [Int]
    public let elementOffset: Int
    public let storage: FileSlice

    /// Validates the view against its storage so later reads can never leave it.
    public init(name: String, dtype: ScalarType, shape: [Int], strides: [Int]? = nil,
                elementOffset: Int = 0, storage: FileSlice) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw FormatError("tensor '\(name)' has a negative dimension in shape \(shape)")
        }
        let strides = strides ?? WeightTensor.contiguousStrides(shape)
        guard strides.count == shape.count, strides.allSatisfy({ $0 >= 0 }) else {
            throw FormatError("tensor '\(name)' has strides \(strides) that do not fit shape \(shape)")
        }
        guard elementOffset >= 0 else {
            throw FormatError("tensor '\(name)' has a negative storage offset")
        }
        let storageElements = storage.count / dtype.byteSize
        let count = try WeightTensor.elementCount(shape, name: name)
        // A broadcast (stride-0) view repeats elements (PyTorch saves `expand()`ed tensors so),
        // but one claiming more than 2^40 of them is no real tensor: it would be reported,
        // and made contiguous, as if it were.
        if count > WeightTensor.maximumBroadcastElements, count > storageElements {
            throw FormatError("tensor '\(name)' is a stride-0 view claiming \(count) elements of a storage holding \(storageElements)")
        }
        if count > 0 {
            var last = elementOffset
            for (size, stride) in zip(shape, strides) {
                let (step, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflow2) = last.addingReportingOverflow(step)
                guard !overflow, !overflow2 else {
                    throw FormatError("tensor '\(name)' addresses an absurd extent")
                }
                last = sum
            }
            guard last < storageElements else {
                throw FormatError("tensor '\(name)' (shape \(shape)) reaches element \(last) of a storage holding \(storageElements)")
            }
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.elementOffset = elementOffset
        self.storage = storage
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// The same view under another name (tensors come out of a pickle unnamed).
    public func renamed(_ newName: String) -> WeightTensor {
        var copy = self
        copy.name = newName
        return copy
    }

    /// True when the elements sit in row-major order with no gaps.
    public var isContiguous: Bool { strides == WeightTensor.contiguousStrides(shape) || elementCount <= 1 }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= max(shape[axis], 1)
        }
        return strides
    }

    /// The most elements a view may claim beyond its storage's own (see `init`).
    static let maximumBroadcastElements = 1 << 40

    static func elementCount(_ shape: [Int], name: String) throws -> Int {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw FormatError("tensor '\(name)' declares an absurd shape \(shape)") }
            count = product
        }
        return count
    }

    /// Storage element indices of the view's elements, in row-major order.
    func forEachStorageIndex(_ body: (Int, Int) -> Void) {
        let count = elementCount
        if count == 0 { return }
        if isContiguous {
            for i in 0..<count { body(i, elementOffset + i) }
            return
        }
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var position = elementOffset
        for i in 0..<count {
            body(i, position)
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                position += strides[axis]
                if index[axis] < shape[axis] { break }
                position -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// The values as Float32 in row-major order (non-contiguous views are gathered).
    public func floats() -> [Float] {
        var result = [Float](repeating: 0, count: elementCount)
        let bytes = storage.bytes
        let type = dtype
        if type == .float32 && isContiguous, elementCount > 0 {
            result.withUnsafeMutableBytes { target in
                target.copyMemory(from: UnsafeRawBufferPointer(
                    rebasing: bytes[(elementOffset * 4)..<((elementOffset + elementCount) * 4)]))
            }
            return result
        }
        if isContiguous, elementCount > 0, type == .float16 || type == .bfloat16 {
            // The bundled model is float16: a tight loop without the per-element type switch.
            let start = elementOffset * 2
            result.withUnsafeMutableBufferPointer { target in
                for i in 0..<elementCount {
                    let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))
                    target[i] = type == .float16 ? Float(Float16(bitPattern: bits)) : Float(bitPattern: UInt32(bits) << 16)
                }
            }
            return result
        }
        result.withUnsafeMutableBufferPointer { target in
            forEachStorageIndex { i, source in target[i] = type.float(in: bytes, at: source) }
        }
        return result
    }

    /// The values as Double (exact for all types but int64 beyond 2^53).
    public func doubles() -> [Double] {
        var result = [Double](repeating: 0, count: elementCount)
        let bytes = storage.bytes
        result.withUnsafeMutableBufferPointer { target in
            forEachStorageIndex { i, source in target[i] = dtype.double(in: bytes, at: source) }
        }
        return result
    }

    /// The values as Int64 (exact for integer and boolean tensors).
    public func int64s() -> [Int64] {
        var result = [Int64](repeating: 0, count: elementCount)
        let bytes = storage.bytes
        result.withUnsafeMutableBufferPointer { target in
            forEachStorageIndex { i, source in target[i] = dtype.int64(in: bytes, at: source) }
        }
        return result
    }

    /// A dense Float32 engine tensor.
    public func tensor() -> Tensor {
        Tensor(shape: shape, scalars: floats())
    }
}

extension Sequence where Element == WeightTensor {
    /// The tensors' elements together, saturating: counts come from the file.
    public var elementTotal: Int {
        reduce(0) { sum, tensor in
            let (value, overflow) = sum.addingReportingOverflow(tensor.elementCount)
            return overflow ? Int.max : value
        }
    }
}
