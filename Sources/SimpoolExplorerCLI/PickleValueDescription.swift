import Checkpoints

/// Short Python-like text for pickled values, for `inspect`: enough to recognise an
/// `args` namespace or an epoch number, bounded so a huge entry prints one line.
enum PickleValueDescription {
    static func describe(_ value: PickleValue, depth: Int = 0, limit: Int = 8) -> String {
        if depth > 3 { return "…" }
        func items(_ values: [PickleValue]) -> String {
            let shown = values.prefix(limit).map { describe($0, depth: depth + 1, limit: limit) }
            return shown.joined(separator: ", ") + (values.count > limit ? ", … (\(values.count) items)" : "")
        }
        switch value {
        case .none: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .int(let number): return String(number)
        case .bigInt(let bytes): return "<\(bytes.count * 8)-bit int>"
        case .float(let number): return formatFloat(number)
        case .string(let text):
            let clipped = text.count > 60 ? String(text.prefix(57)) + "..." : text
            return "'" + clipped.replacingOccurrences(of: "\n", with: "\\n") + "'"
        case .bytes(let bytes): return "<\(bytes.count) bytes>"
        case .tuple(let values): return "(" + items(values) + (values.count == 1 ? ",)" : ")")
        case .list(let list): return "[" + items(list.items) + "]"
        case .dict(let dict):
            let tensors = dict.pairs.filter { if case .tensor = $0.value { return true } else { return false } }.count
            if tensors > 0 { return "{\(dict.count) entries, \(tensors) tensors}" }
            let shown = dict.pairs.prefix(limit).map {
                describe($0.key, depth: depth + 1, limit: limit) + ": " + describe($0.value, depth: depth + 1, limit: limit)
            }
            return "{" + shown.joined(separator: ", ") + (dict.count > limit ? ", … (\(dict.count) entries)" : "") + "}"
        case .global(let module, let name): return "<class \(module).\(name)>"
        case .object(let object):
            if let attributes = object.attributes {
                let shown = attributes.pairs.prefix(64).map {
                    "\(keyText($0.key))=\(describe($0.value, depth: depth + 1, limit: limit))"
                }
                return "\(object.name)(" + shown.joined(separator: ", ") + (attributes.count > 64 ? ", …" : "") + ")"
            }
            return "\(object.name)(" + items(object.arguments) + ")"
        case .storage(let storage): return "<\(storage.dtype.rawValue) storage>"
        case .tensor(let tensor): return "tensor(\(tensor.dtype.rawValue) \(tensor.shape))"
        }
    }

    static func keyText(_ key: PickleValue) -> String {
        if case .string(let text) = key { return text }
        return describe(key)
    }

    static func formatFloat(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
        return String(value)
    }
}

import Foundation
