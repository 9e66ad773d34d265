import Foundation
import Tensors

/// NumPy's `.npy` format: a magic string, a version, a Python-literal header naming dtype,
/// order and shape, then the raw array. Reads little-endian float32/float64 (C or Fortran
/// order) into a Float32 tensor; writes float32 in C order.
public enum NPYFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        do {
            return try read(file.bytes)
        } catch let error as FormatError {
            throw CheckpointError(path: path, problem: error.message)
        }
    }

    static func read(_ bytes: UnsafeRawBufferPointer) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw FormatError(bytes.isEmpty ? "empty file" : "not a .npy file (wrong magic)")
        }
        var reader = ByteReader(bytes, position: 6)
        let major = try reader.readByte()
        _ = try reader.readByte()
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try reader.read(UInt16.self))
        case 2, 3: headerLength = Int(try reader.read(UInt32.self))
        default: throw FormatError("unsupported .npy version \(major)")
        }
        guard headerLength <= 1 << 20 else { throw FormatError(".npy header of \(headerLength) bytes is absurd") }
        let header = String(decoding: try reader.readBytes(headerLength), as: UTF8.self)
        guard let descr = field("descr", in: header).flatMap(quoted) else {
            throw FormatError(".npy header has no dtype")
        }
        let fortran = field("fortran_order", in: header)?.hasPrefix("True") ?? false
        guard let shapeText = field("shape", in: header), let shape = tuple(shapeText) else {
            throw FormatError(".npy header has no valid shape")
        }
        let elementSize: Int
        switch descr {
        case "<f4", "|f4", "=f4": elementSize = 4
        case "<f8", "|f8", "=f8": elementSize = 8
        case ">f4", ">f8": throw FormatError("big-endian \(descr) arrays are not supported; save with dtype '<f4'")
        default: throw FormatError("unsupported dtype \(descr); features must be float32 or float64")
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, size >= 0 else { throw FormatError("absurd shape \(shape)") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, byteCount <= reader.remaining else {
            throw FormatError("shape \(shape) needs \(count) values but the file holds \(reader.remaining / elementSize)")
        }
        let data = try reader.readBytes(byteCount)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            values[i] = elementSize == 4
                ? Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                : Float(Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
        }
        if fortran && shape.count > 1 {
            values = fortranToC(values, shape: shape)
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Column-major (first index fastest) to row-major.
    static func fortranToC(_ values: [Float], shape: [Int]) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<values.count {
            var f = 0, stride = 1
            for axis in 0..<shape.count {
                f += index[axis] * stride
                stride *= shape[axis]
            }
            result[c] = values[f]
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// The `.npy` bytes of a float32 array (format 1.0, header padded to 64 bytes).
    public static func encode(_ values: [Float], shape: [Int]) -> [UInt8] {
        precondition(shape.reduce(1, *) == values.count)
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes = magic + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + 4 * values.count)
        for value in values {
            let bits = value.bitPattern.littleEndian
            bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        return bytes
    }

    private static func field(_ name: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(name)'") else { return nil }
        var rest = header[range.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        return String(rest)
    }

    private static func quoted(_ text: String) -> String? {
        guard let quote = text.first, quote == "'" || quote == "\"" else { return nil }
        return text.dropFirst().split(separator: quote, maxSplits: 1).first.map(String.init)
    }

    private static func tuple(_ text: String) -> [Int]? {
        guard text.first == "(", let end = text.firstIndex(of: ")") else { return nil }
        let inside = text[text.index(after: text.startIndex)..<end]
        let parts = inside.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let numbers = parts.compactMap { Int($0) }
        return numbers.count == parts.count ? numbers : nil
    }
}
