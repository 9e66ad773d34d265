import Foundation

/// Reads the safetensors format: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw data. Every claim of the
/// header is checked against the file before a tensor is handed out.
enum SafetensorsReader {
    /// Headers above this size are refused: real ones are kilobytes, and a hostile length
    /// must not make us parse (or allocate) gigabytes of JSON.
    static let maximumHeaderBytes = 100 << 20

    /// Tensors a header may list. The largest real checkpoints hold a few thousand; a
    /// header of a million tiny entries fits under the byte limit but would take tens of
    /// seconds and gigabytes to parse (about 4 KB an entry in Foundation's JSON objects).
    static let maximumTensors = 100_000

    /// How often `needle` occurs in `bytes` (a linear scan, no allocation).
    static func occurrences(of needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int {
        guard let first = needle.first, bytes.count >= needle.count else { return 0 }
        var count = 0, i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first, bytes[i..<(i + needle.count)].elementsEqual(needle) {
                count += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        return count
    }

    static func looksLikeSafetensors(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 9 else { return false }
        return bytes[8] == UInt8(ascii: "{")
    }

    static func read(_ file: MappedFile) throws -> (tensors: [WeightTensor], metadata: [String: String]) {
        var reader = ByteReader(file.bytes)
        guard file.count >= 8 else { throw FormatError("truncated safetensors file: no header length") }
        let headerLength = try reader.read(UInt64.self)
        guard headerLength <= UInt64(maximumHeaderBytes) else {
            throw FormatError("safetensors header claims \(headerLength) bytes, more than the \(maximumHeaderBytes >> 20) MiB limit")
        }
        guard Int(headerLength) <= reader.remaining else {
            throw FormatError("truncated safetensors file: header of \(headerLength) bytes but only \(reader.remaining) follow")
        }
        let headerBytes = try reader.readBytes(Int(headerLength))
        // Count the entries before parsing: each tensor has one "data_offsets" key.
        let entryCount = Self.occurrences(of: Array("\"data_offsets\"".utf8), in: headerBytes)
        guard entryCount <= maximumTensors else {
            throw FormatError("safetensors header lists \(entryCount) tensors, more than the \(maximumTensors) a checkpoint may hold")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart

        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw FormatError("safetensors header is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw FormatError("safetensors header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: ScalarType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else {
                    throw FormatError("safetensors __metadata__ is not an object")
                }
                for (key, text) in pairs {
                    guard let text = text as? String else {
                        throw FormatError("safetensors __metadata__ value for '\(key)' is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw FormatError("safetensors entry '\(name)' is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw FormatError("safetensors entry '\(name)' has no dtype")
            }
            guard let dtype = ScalarType(safetensorsName: dtypeName) else {
                throw FormatError("tensor '\(name)' has unsupported dtype \(dtypeName)")
            }
            guard let shape = integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw FormatError("tensor '\(name)' has no valid shape")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw FormatError("tensor '\(name)' has no valid data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else {
                throw FormatError("tensor '\(name)' has data_offsets [\(begin), \(end)] out of order")
            }
            guard end <= dataSize else {
                throw FormatError("tensor '\(name)' runs past the end of the file (bytes \(begin)..<\(end) of \(dataSize))")
            }
            let count = try WeightTensor.elementCount(shape, name: name)
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytes == end - begin else {
                throw FormatError("tensor '\(name)': shape \(shape) of \(dtypeName) needs \(overflow ? "absurdly many" : String(bytes)) bytes but data_offsets give \(end - begin)")
            }
            entries.append((name, dtype, shape, begin, end))
        }

        // The format requires the tensors to tile the data exactly: no overlap, no holes.
        let ordered = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for entry in ordered {
            if entry.begin < expected {
                throw FormatError("tensor '\(entry.name)' overlaps the tensor before it in the data")
            }
            if entry.begin > expected {
                throw FormatError("tensor '\(entry.name)' leaves a gap of \(entry.begin - expected) bytes in the data")
            }
            expected = entry.end
        }

        let tensors = try ordered.map { entry in
            try WeightTensor(name: entry.name, dtype: entry.dtype, shape: entry.shape,
                             storage: FileSlice(file: file, offset: dataStart + entry.begin,
                                                count: entry.end - entry.begin))
        }
        return (tensors, metadata)
    }

    /// A JSON array of non-fractional numbers as Ints.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in array {
            guard let number = element as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9.0e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}
