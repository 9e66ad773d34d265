/// The element types a checkpoint may store, with their sizes and names in each format.
public enum ScalarType: String, Sendable, CaseIterable {
    case float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// The dtype string used in safetensors headers.
    public var safetensorsName: String {
        switch self {
        case .float64: return "F64"
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    public init?(safetensorsName: String) {
        guard let match = ScalarType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else {
            return nil
        }
        self = match
    }

    /// The legacy typed-storage class PyTorch pickles (`torch.FloatStorage` …).
    public init?(torchStorageName: String) {
        switch torchStorageName {
        case "DoubleStorage": self = .float64
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// The dtype objects (`torch.float32` …) that newer rebuild functions pass explicitly.
    public init?(torchDTypeName: String) {
        switch torchDTypeName {
        case "float64", "double": self = .float64
        case "float32", "float": self = .float32
        case "float16", "half": self = .float16
        case "bfloat16": self = .bfloat16
        case "int64", "long": self = .int64
        case "int32", "int": self = .int32
        case "int16", "short": self = .int16
        case "int8": self = .int8
        case "uint8": self = .uint8
        case "bool": self = .bool
        default: return nil
        }
    }

    /// Reads element `index` of raw little-endian storage as a Double (exact for every type
    /// but int64 beyond 2^53).
    @inline(__always)
    func double(in bytes: UnsafeRawBufferPointer, at index: Int) -> Double {
        let offset = index * byteSize
        switch self {
        case .float64: return Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
        case .float32: return Double(float(in: bytes, at: index))
        case .float16, .bfloat16: return Double(float(in: bytes, at: index))
        case .int64: return Double(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
        case .int32: return Double(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        case .int16: return Double(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
        case .int8: return Double(Int8(bitPattern: bytes[offset]))
        case .uint8: return Double(bytes[offset])
        case .bool: return bytes[offset] != 0 ? 1 : 0
        }
    }

    /// Reads element `index` as a Float; float16 and bfloat16 widen exactly.
    @inline(__always)
    func float(in bytes: UnsafeRawBufferPointer, at index: Int) -> Float {
        let offset = index * byteSize
        switch self {
        case .float32:
            return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case .float16:
            return Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
        case .bfloat16:
            let bits = UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) << 16
            return Float(bitPattern: bits)
        default:
            return Float(double(in: bytes, at: index))
        }
    }

    /// Reads element `index` as an Int64 (integers and booleans exactly; floats truncated).
    @inline(__always)
    func int64(in bytes: UnsafeRawBufferPointer, at index: Int) -> Int64 {
        switch self {
        case .int64:
            return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: Int64.self))
        case .float64, .float32, .float16, .bfloat16:
            return Int64(exactly: double(in: bytes, at: index).rounded(.towardZero)) ?? 0
        default:
            return Int64(double(in: bytes, at: index))
        }
    }
}
