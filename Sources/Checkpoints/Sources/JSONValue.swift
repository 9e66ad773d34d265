import Foundation

/// A parsed JSON document (`config.json`, `preprocessor_config.json`, a shard index), kept
/// as plain values so that facts can be read from it without a schema per library.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses `data`; nil when it is not JSON.
    public static func parse(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var string: String? { if case .string(let text) = self { return text } else { return nil } }
    public var double: Double? { if case .number(let value) = self { return value } else { return nil } }
    public var bool: Bool? { if case .bool(let value) = self { return value } else { return nil } }

    /// A whole number, or nil for fractions, strings and the rest.
    public var int: Int? {
        guard let value = double, value.rounded() == value, abs(value) < 1e15 else { return nil }
        return Int(value)
    }

    public var array: [JSONValue]? { if case .array(let items) = self { return items } else { return nil } }
    public var object: [String: JSONValue]? { if case .object(let fields) = self { return fields } else { return nil } }

    /// `[0.5, 0.5, 0.5]` as floats, or a single number repeated `count` times.
    public func floats(count: Int) -> [Float]? {
        if let value = double { return [Float](repeating: Float(value), count: count) }
        guard let items = array?.compactMap(\.double), items.count == count, array?.count == count else { return nil }
        return items.map(Float.init)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }
}
