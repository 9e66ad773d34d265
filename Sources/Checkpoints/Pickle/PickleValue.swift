/// A value produced by the pickle machine. Nothing here can run code: classes are names,
/// objects are inert records of the arguments and state they were built from.
public indirect enum PickleValue: @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too wide for Int: little-endian two's complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A reference to `module.name`, never imported.
    case global(module: String, name: String)
    /// An instance of a class that was not executed, only recorded.
    case object(PickleObject)
    case storage(PickleStorage)
    case tensor(WeightTensor)

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }

    /// The elements of a tuple or list.
    public var sequence: [PickleValue]? {
        switch self {
        case .tuple(let items): return items
        case .list(let list): return list.items
        default: return nil
        }
    }

    public var dictValue: PickleDict? {
        if case .dict(let dict) = self { return dict }
        return nil
    }
}

/// A mutable list, shared by reference as Python lists are (APPEND after memoisation).
public final class PickleList: @unchecked Sendable, NestingTracked {
    public var items: [PickleValue]
    var isNested = false
    public init(_ items: [PickleValue] = []) { self.items = items }
}

/// An insertion-ordered dictionary. Keys are usually strings; others are kept in order too.
public final class PickleDict: @unchecked Sendable, NestingTracked {
    var isNested = false
    public private(set) var pairs: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]

    public init() {}

    public func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let name) = key {
            if let existing = stringIndex[name] {
                pairs[existing].value = value
                return
            }
            stringIndex[name] = pairs.count
        }
        pairs.append((key, value))
    }

    public subscript(key: String) -> PickleValue? {
        stringIndex[key].map { pairs[$0].value }
    }

    public var count: Int { pairs.count }
}

/// An object that Python would have constructed; here only its ingredients are kept.
public final class PickleObject: @unchecked Sendable, NestingTracked {
    var isNested = false
    public let module: String
    public let name: String
    public let arguments: [PickleValue]
    public var state: PickleValue?

    public init(module: String, name: String, arguments: [PickleValue], state: PickleValue? = nil) {
        self.module = module
        self.name = name
        self.arguments = arguments
        self.state = state
    }

    public var qualifiedName: String { "\(module).\(name)" }

    /// Attributes from the object's state when it is a dict (e.g. an argparse.Namespace).
    public var attributes: PickleDict? {
        if case .dict(let dict)? = state { return dict }
        return nil
    }
}

/// A typed storage located by the container format (a ZIP entry or a legacy record).
public struct PickleStorage: Sendable {
    public let dtype: ScalarType
    public let slice: FileSlice
    public init(dtype: ScalarType, slice: FileSlice) {
        self.dtype = dtype
        self.slice = slice
    }
}
