/// A pickle interpreter that never imports or calls anything.
///
/// It runs the opcodes PyTorch checkpoints use (protocols 0–5), resolving `GLOBAL` to names
/// and handing every call (`REDUCE`, `NEWOBJ`, `INST`, `OBJ`) to a `PickleCallPolicy`, which
/// interprets the few tensor-rebuilding functions, records plain data classes and refuses
/// the rest. Containers form a DAG built bottom-up, as every real pickler emits them:
/// a container that was already placed inside another may not be changed again, which
/// rules out cycles and depth bombs built by mutation.
struct PickleMachine {
    /// Deeper nesting than this is refused; real checkpoints nest a handful of levels.
    static let maximumDepth = 200

    struct Item {
        var value: PickleValue
        var depth: Int
    }

    let bytes: UnsafeRawBufferPointer
    let policy: PickleCallPolicy
    let persistentLoad: (PickleValue) throws -> PickleValue

    /// Runs one pickle starting at `offset`; returns its value and where it ended.
    func run(from offset: Int = 0) throws -> (value: PickleValue, end: Int) {
        var reader = ByteReader(bytes, position: offset)
        var stack: [Item] = []
        var marks: [Int] = []
        var memo: [Int: Item] = [:]
        var protocolVersion = 0

        func pop() throws -> Item {
            guard let top = stack.popLast() else { throw FormatError("corrupt pickle: stack underflow") }
            return top
        }
        func popMark() throws -> [Item] {
            guard let mark = marks.popLast(), mark <= stack.count else {
                throw FormatError("corrupt pickle: missing MARK")
            }
            let items = Array(stack[mark...])
            stack.removeSubrange(mark...)
            return items
        }
        func push(_ value: PickleValue, depth: Int = 0) throws {
            guard depth <= PickleMachine.maximumDepth else {
                throw FormatError("pickle nests containers deeper than \(PickleMachine.maximumDepth) levels")
            }
            stack.append(Item(value: value, depth: depth))
        }
        func container(_ children: [Item], _ value: PickleValue) throws {
            try markNested(children.map(\.value))
            try push(value, depth: 1 + (children.map(\.depth).max() ?? 0))
        }
        func text(_ line: [UInt8]) -> String { String(decoding: line, as: UTF8.self) }
        func string(_ count: Int) throws -> String {
            String(decoding: try reader.readBytes(count), as: UTF8.self)
        }
        func length<T: FixedWidthInteger>(_ type: T.Type) throws -> Int {
            let value = try reader.read(type)
            guard value >= 0, UInt64(value) <= UInt64(reader.remaining) else {
                throw FormatError("truncated pickle: a \(value)-byte field runs past the end")
            }
            return Int(value)
        }
        func memoPut(_ index: Int) throws {
            guard let top = stack.last else { throw FormatError("corrupt pickle: PUT on empty stack") }
            memo[index] = top
        }
        func memoGet(_ index: Int) throws {
            guard let item = memo[index] else { throw FormatError("corrupt pickle: memo entry \(index) missing") }
            stack.append(item)
        }
        func parent(at index: Int) throws -> Item {
            guard index >= 0, index < stack.count else { throw FormatError("corrupt pickle: stack underflow") }
            return stack[index]
        }
        /// Adds items to the list or dict at `target`, refusing containers already nested.
        func extend(at target: Int, with items: [Item], pairs: Bool) throws {
            let holder = try parent(at: target)
            let childDepth = items.map(\.depth).max() ?? 0
            switch holder.value {
            case .list(let list) where !pairs:
                try PickleMachine.requireMutable(list)
                try markNested(items.map(\.value), into: list)
                list.items.append(contentsOf: items.map(\.value))
            case .dict(let dict) where pairs:
                try PickleMachine.requireMutable(dict)
                guard items.count % 2 == 0 else { throw FormatError("corrupt pickle: odd SETITEMS") }
                try markNested(items.map(\.value), into: dict)
                for i in stride(from: 0, to: items.count, by: 2) {
                    dict.set(items[i].value, items[i + 1].value)
                }
            case .object(let object):
                // Objects whose class rebuilds from list or dict items (e.g. OrderedDict
                // subclasses): keep the items as the record's state.
                try PickleMachine.requireMutable(object)
                let values = items.map(\.value)
                try markNested(values, into: object)
                let store: PickleDict
                if case .dict(let existing)? = object.state { store = existing } else {
                    store = PickleDict()
                    object.state = .dict(store)
                }
                if pairs {
                    for i in stride(from: 0, to: values.count - 1, by: 2) { store.set(values[i], values[i + 1]) }
                } else {
                    for value in values { store.set(.int(store.count), value) }
                }
            default:
                throw FormatError("corrupt pickle: \(pairs ? "SETITEMS" : "APPENDS") on a \(PickleMachine.kind(holder.value))")
            }
            stack[target].depth = max(holder.depth, childDepth + 1)
            guard stack[target].depth <= PickleMachine.maximumDepth else {
                throw FormatError("pickle nests containers deeper than \(PickleMachine.maximumDepth) levels")
            }
        }
        func markNested(_ values: [PickleValue], into parent: AnyObject? = nil) throws {
            for value in values {
                switch value {
                case .list(let box):
                    if box === parent { throw FormatError("pickle builds a container that contains itself") }
                    box.isNested = true
                case .dict(let box):
                    if box === parent { throw FormatError("pickle builds a container that contains itself") }
                    box.isNested = true
                case .object(let box):
                    if box === parent { throw FormatError("pickle builds a container that contains itself") }
                    box.isNested = true
                default: break
                }
            }
        }
        func call(_ callable: Item, _ arguments: Item, newObject: Bool) throws {
            guard case .global(let module, let name) = callable.value else {
                throw FormatError("pickle calls a \(PickleMachine.kind(callable.value)), not a named global")
            }
            guard let args = arguments.value.sequence else {
                throw FormatError("corrupt pickle: arguments of \(module).\(name) are not a tuple")
            }
            try markNested(args)
            let result = newObject
                ? try policy.instantiate(module: module, name: name, arguments: args)
                : try policy.call(module: module, name: name, arguments: args)
            try push(result, depth: arguments.depth + 1)
        }

        while true {
            let opcode = try reader.readByte()
            switch opcode {
            case 0x80: protocolVersion = Int(try reader.readByte())      // PROTO
            case 0x95: _ = try reader.read(UInt64.self)                  // FRAME
            case 0x2E:                                                   // STOP
                let result = try pop()
                return (result.value, reader.position)
            case 0x28: marks.append(stack.count)                         // MARK
            case 0x30: _ = try pop()                                     // POP
            case 0x31: _ = try popMark()                                 // POP_MARK
            case 0x32:                                                   // DUP
                guard let top = stack.last else { throw FormatError("corrupt pickle: DUP on empty stack") }
                stack.append(top)

            // Scalars.
            case 0x4E: try push(.none)                                   // NONE
            case 0x88: try push(.bool(true))                             // NEWTRUE
            case 0x89: try push(.bool(false))                            // NEWFALSE
            case 0x4A: try push(.int(Int(try reader.read(Int32.self))))  // BININT
            case 0x4B: try push(.int(Int(try reader.readByte())))        // BININT1
            case 0x4D: try push(.int(Int(try reader.read(UInt16.self)))) // BININT2
            case 0x8A:                                                   // LONG1
                let count = Int(try reader.readByte())
                try push(PickleMachine.integer(Array(try reader.readBytes(count))))
            case 0x8B:                                                   // LONG4
                let count = try length(Int32.self)
                guard count <= 4096 else { throw FormatError("pickle integer of \(count) bytes refused") }
                try push(PickleMachine.integer(Array(try reader.readBytes(count))))
            case 0x47:                                                   // BINFLOAT (big-endian)
                let bits = UInt64(bigEndian: try reader.read(UInt64.self).littleEndian)
                try push(.float(Double(bitPattern: bits)))
            case 0x49:                                                   // INT (text)
                let line = text(try reader.readLine())
                if line == "01" { try push(.bool(true)) } else if line == "00" { try push(.bool(false)) } else {
                    guard let value = Int(line) else { throw FormatError("corrupt pickle: bad INT '\(line)'") }
                    try push(.int(value))
                }
            case 0x4C:                                                   // LONG (text)
                var line = text(try reader.readLine())
                if line.hasSuffix("L") { line.removeLast() }
                guard let value = Int(line) else { throw FormatError("pickle LONG '\(line.prefix(40))' too large or malformed") }
                try push(.int(value))
            case 0x46:                                                   // FLOAT (text)
                let line = text(try reader.readLine())
                guard let value = Double(line) else { throw FormatError("corrupt pickle: bad FLOAT '\(line)'") }
                try push(.float(value))

            // Strings and bytes.
            case 0x8C: try push(.string(try string(Int(try reader.readByte()))))   // SHORT_BINUNICODE
            case 0x58: try push(.string(try string(try length(UInt32.self))))       // BINUNICODE
            case 0x8D: try push(.string(try string(try length(UInt64.self))))       // BINUNICODE8
            case 0x55: try push(.string(try PickleMachine.latin1(try reader.readBytes(Int(try reader.readByte()))))) // SHORT_BINSTRING
            case 0x54: try push(.string(try PickleMachine.latin1(try reader.readBytes(try length(Int32.self)))))      // BINSTRING
            case 0x43: try push(.bytes(Array(try reader.readBytes(Int(try reader.readByte())))))                     // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try reader.readBytes(try length(UInt32.self)))))                        // BINBYTES
            case 0x8E, 0x96: try push(.bytes(Array(try reader.readBytes(try length(UInt64.self)))))                  // BINBYTES8, BYTEARRAY8
            case 0x53:                                                   // STRING (quoted repr)
                try push(.string(PickleMachine.unquote(text(try reader.readLine()))))
            case 0x56:                                                   // UNICODE (raw-unicode-escape)
                try push(.string(text(try reader.readLine())))

            // Containers.
            case 0x29: try push(.tuple([]), depth: 1)                    // EMPTY_TUPLE
            case 0x5D: try push(.list(PickleList()), depth: 1)           // EMPTY_LIST
            case 0x7D: try push(.dict(PickleDict()), depth: 1)           // EMPTY_DICT
            case 0x8F: try push(.list(PickleList()), depth: 1)           // EMPTY_SET (kept as a list)
            case 0x85, 0x86, 0x87:                                       // TUPLE1, TUPLE2, TUPLE3
                let count = Int(opcode - 0x84)
                guard stack.count >= count else { throw FormatError("corrupt pickle: stack underflow") }
                let items = Array(stack.suffix(count))
                stack.removeLast(count)
                try container(items, .tuple(items.map(\.value)))
            case 0x74:                                                   // TUPLE
                let items = try popMark()
                try container(items, .tuple(items.map(\.value)))
            case 0x91:                                                   // FROZENSET
                let items = try popMark()
                try container(items, .list(PickleList(items.map(\.value))))
            case 0x6C:                                                   // LIST
                let items = try popMark()
                try container(items, .list(PickleList(items.map(\.value))))
            case 0x64:                                                   // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw FormatError("corrupt pickle: odd DICT") }
                let dict = PickleDict()
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i].value, items[i + 1].value) }
                try container(items, .dict(dict))
            case 0x61:                                                   // APPEND
                let item = try pop()
                try extend(at: stack.count - 1, with: [item], pairs: false)
            case 0x65, 0x90:                                             // APPENDS, ADDITEMS
                let items = try popMark()
                try extend(at: stack.count - 1, with: items, pairs: false)
            case 0x73:                                                   // SETITEM
                let value = try pop()
                let key = try pop()
                try extend(at: stack.count - 1, with: [key, value], pairs: true)
            case 0x75:                                                   // SETITEMS
                let items = try popMark()
                try extend(at: stack.count - 1, with: items, pairs: true)

            // Memo.
            case 0x71: try memoPut(Int(try reader.readByte()))           // BINPUT
            case 0x72: try memoPut(Int(try reader.read(UInt32.self)))    // LONG_BINPUT
            case 0x94: try memoPut(memo.count)                           // MEMOIZE
            case 0x70:                                                   // PUT (text)
                guard let index = Int(text(try reader.readLine())) else { throw FormatError("corrupt pickle: bad PUT") }
                try memoPut(index)
            case 0x68: try memoGet(Int(try reader.readByte()))           // BINGET
            case 0x6A: try memoGet(Int(try reader.read(UInt32.self)))    // LONG_BINGET
            case 0x67:                                                   // GET (text)
                guard let index = Int(text(try reader.readLine())) else { throw FormatError("corrupt pickle: bad GET") }
                try memoGet(index)

            // Names and calls: never imported, never executed.
            case 0x63:                                                   // GLOBAL
                let module = PickleMachine.python3Module(text(try reader.readLine()), protocol: protocolVersion)
                let name = text(try reader.readLine())
                try push(try policy.resolve(module: module, name: name))
            case 0x93:                                                   // STACK_GLOBAL
                let name = try pop().value
                let module = try pop().value
                guard case .string(let m) = module, case .string(let n) = name else {
                    throw FormatError("corrupt pickle: STACK_GLOBAL needs two strings")
                }
                try push(try policy.resolve(module: m, name: n))
            case 0x52:                                                   // REDUCE
                let arguments = try pop()
                let callable = try pop()
                try call(callable, arguments, newObject: false)
            case 0x81:                                                   // NEWOBJ
                let arguments = try pop()
                let cls = try pop()
                try call(cls, arguments, newObject: true)
            case 0x92:                                                   // NEWOBJ_EX
                _ = try pop()
                let arguments = try pop()
                let cls = try pop()
                try call(cls, arguments, newObject: true)
            case 0x69:                                                   // INST
                let module = PickleMachine.python3Module(text(try reader.readLine()), protocol: protocolVersion)
                let name = text(try reader.readLine())
                let items = try popMark()
                _ = try policy.resolve(module: module, name: name)
                try markNested(items.map(\.value))
                try push(try policy.call(module: module, name: name, arguments: items.map(\.value)),
                         depth: 1 + (items.map(\.depth).max() ?? 0))
            case 0x6F:                                                   // OBJ
                let items = try popMark()
                guard let first = items.first else { throw FormatError("corrupt pickle: empty OBJ") }
                try call(first, Item(value: .tuple(items.dropFirst().map(\.value)),
                                     depth: 1 + (items.dropFirst().map(\.depth).max() ?? 0)), newObject: false)
            case 0x62:                                                   // BUILD
                let state = try pop()
                let target = try parent(at: stack.count - 1)
                if case .object(let object) = target.value {
                    try PickleMachine.requireMutable(object)
                    try markNested([state.value], into: object)
                    object.state = state.value
                    stack[stack.count - 1].depth = max(target.depth, state.depth + 1)
                }
                // BUILD on anything else (a tensor's or an OrderedDict's attributes) is
                // Python setting attributes we do not use; the state is dropped.

            // Persistent ids: storages, located by the container format.
            case 0x51:                                                   // BINPERSID
                let id = try pop()
                try push(try persistentLoad(id.value), depth: id.depth)
            case 0x50:                                                   // PERSID
                try push(try persistentLoad(.string(text(try reader.readLine()))))

            case 0x82, 0x83, 0x84:
                throw FormatError("pickle uses the copyreg extension registry (EXT opcodes), which is refused")
            case 0x97, 0x98:
                throw FormatError("pickle uses out-of-band buffers, which checkpoints never need")
            default:
                throw FormatError(String(format: "corrupt pickle: unknown opcode 0x%02x at byte %d", opcode, reader.position - 1))
            }
        }
    }

    /// Protocols 0–2 spell some modules by their Python 2 names; Python's unpickler maps
    /// them back (fix_imports), and so do we, so that messages and rules use one name.
    static func python3Module(_ module: String, protocol version: Int) -> String {
        guard version < 3 else { return module }
        switch module {
        case "__builtin__", "exceptions": return "builtins"
        case "copy_reg": return "copyreg"
        case "commands": return "subprocess"
        case "cPickle": return "pickle"
        case "UserDict", "UserList", "UserString": return "collections"
        case "Queue": return "queue"
        default: return module
        }
    }

    static func requireMutable(_ box: NestingTracked) throws {
        if box.isNested {
            throw FormatError("pickle changes a container after placing it inside another (refused: cycle or depth attack)")
        }
    }

    static func kind(_ value: PickleValue) -> String {
        switch value {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let module, let name): return "global \(module).\(name)"
        case .object(let object): return object.qualifiedName
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    /// Little-endian two's complement bytes as an Int when they fit.
    static func integer(_ bytes: [UInt8]) -> PickleValue {
        if bytes.isEmpty { return .int(0) }
        if bytes.count <= 8 {
            var value: UInt64 = 0
            for (i, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
            if bytes.count < 8, bytes.last! & 0x80 != 0 {
                value |= ~0 << (8 * UInt64(bytes.count))
            }
            return .int(Int(Int64(bitPattern: value)))
        }
        return .bigInt(bytes)
    }

    static func latin1(_ bytes: UnsafeRawBufferPointer) throws -> String {
        String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    /// A protocol-0 quoted string: 'text' or "text", with the common escapes.
    static func unquote(_ quoted: String) -> String {
        var body = Substring(quoted)
        if let first = body.first, (first == "'" || first == "\""), body.count >= 2, body.last == first {
            body = body.dropFirst().dropLast()
        }
        var result = ""
        var iterator = body.makeIterator()
        while let character = iterator.next() {
            guard character == "\\", let escaped = iterator.next() else {
                result.append(character)
                continue
            }
            switch escaped {
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            default: result.append(escaped)
            }
        }
        return result
    }
}

/// Containers that can be placed inside others; once placed they are frozen.
protocol NestingTracked: AnyObject {
    var isNested: Bool { get set }
}
