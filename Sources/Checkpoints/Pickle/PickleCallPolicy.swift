/// What a pickle may call, and what each call means here.
///
/// PyTorch checkpoints name a handful of functions that rebuild tensors and containers;
/// those are interpreted (never imported). Plain data classes such as `argparse.Namespace`
/// become inert records. Everything else, `os.system`, `builtins.eval`, `subprocess.Popen`
/// and the like, is refused with an error that names it.
struct PickleCallPolicy {
    /// Modules whose names alone are enough to refuse a pickle: nothing in them is data.
    static let forbiddenModules: Set<String> = [
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "importlib", "runpy",
        "pickle", "_pickle", "marshal", "ctypes", "code", "codeop", "pty", "webbrowser",
        "commands", "multiprocessing", "threading", "signal", "io", "_io", "tempfile",
        "pathlib", "glob", "urllib", "http", "ftplib", "smtplib", "telnetlib", "builtins",
        "__builtin__", "__builtins__", "operator", "functools", "types", "inspect", "gc",
        "torch.storage", "torch.serialization", "torch.hub", "torch.jit", "torch._C",
        "numpy.testing", "numpy.f2py", "numpy.distutils",
    ]

    /// Classes from otherwise forbidden modules that are plain data.
    static let builtinDataTypes: Set<String> = [
        "builtins.set", "builtins.frozenset", "builtins.list", "builtins.tuple", "builtins.dict",
        "builtins.object", "builtins.bytearray", "builtins.slice", "builtins.complex",
        "__builtin__.set", "__builtin__.frozenset", "__builtin__.object",
    ]

    /// Classes whose instances are only attribute bags, recorded as such when called.
    static let recordedDataClasses: Set<String> = [
        "argparse.Namespace", "types.SimpleNamespace", "torch.device", "torch.Size",
        "numpy.dtype", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.ndarray", "pathlib.PosixPath", "pathlib.WindowsPath", "datetime.datetime",
        "datetime.date", "datetime.timedelta", "copyreg._reconstructor", "omegaconf.dictconfig.DictConfig",
        "omegaconf.listconfig.ListConfig", "omegaconf.nodes.AnyNode", "omegaconf.base.Metadata",
        "omegaconf.base.ContainerMetadata", "typing.Any", "enum.Enum", "collections.deque",
    ]

    /// Name of a global as a value, refusing modules that only hold code.
    func resolve(module: String, name: String) throws -> PickleValue {
        let qualified = "\(module).\(name)"
        let root = String(module.split(separator: ".").first ?? "")
        let forbidden = PickleCallPolicy.forbiddenModules.contains(module)
            || PickleCallPolicy.forbiddenModules.contains(root)
        if forbidden && !PickleCallPolicy.builtinDataTypes.contains(qualified)
            && !PickleCallPolicy.recordedDataClasses.contains(qualified) {
            throw FormatError("refused: the pickle references \(qualified), which could run code; nothing was executed")
        }
        return .global(module: module, name: name)
    }

    /// REDUCE / INST / OBJ: a call of `module.name(*arguments)`.
    func call(module: String, name: String, arguments: [PickleValue]) throws -> PickleValue {
        let qualified = "\(module).\(name)"
        switch qualified {
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
            return .tensor(try rebuildTensor(arguments, dtype: nil, function: name))
        case "torch._utils._rebuild_tensor_v3":
            guard arguments.count >= 7, case .global(_, let dtypeName) = arguments[6],
                  let dtype = ScalarType(torchDTypeName: dtypeName) else {
                throw FormatError("\(qualified) with an unsupported dtype")
            }
            return .tensor(try rebuildTensor(arguments, dtype: dtype, function: name))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = arguments.first, case .tensor = data else {
                throw FormatError("\(qualified) without a tensor")
            }
            return data
        case "torch._tensor._rebuild_from_type_v2", "torch._tensor._rebuild_from_type":
            // (function, subclass, arguments, state): rebuild the plain tensor, drop the subclass.
            guard arguments.count >= 3, case .global(let m, let n) = arguments[0],
                  let inner = arguments[2].sequence else {
                throw FormatError("malformed \(qualified)")
            }
            return try call(module: m, name: n, arguments: inner)
        case "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
             "torch._utils._rebuild_sparse_csr", "torch._utils._rebuild_meta_tensor_no_storage",
             "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_nested_tensor":
            throw FormatError("\(qualified): quantized, sparse, meta and nested tensors are not supported")
        case "collections.OrderedDict", "builtins.dict", "collections.defaultdict":
            let dict = PickleDict()
            if qualified != "collections.defaultdict", let pairs = arguments.first?.sequence {
                for pair in pairs {
                    guard let kv = pair.sequence, kv.count == 2 else { throw FormatError("malformed \(qualified) items") }
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case "builtins.set", "builtins.frozenset", "builtins.list", "__builtin__.set", "__builtin__.frozenset":
            return .list(PickleList(arguments.first?.sequence ?? []))
        case "builtins.tuple":
            return .tuple(arguments.first?.sequence ?? [])
        case "builtins.bytearray":
            if case .bytes(let bytes)? = arguments.first { return .bytes(bytes) }
            return .bytes([])
        case "_codecs.encode":
            // How protocol 2 spells bytes: encode(text, 'latin1'). Pure, so interpreted.
            guard case .string(let text)? = arguments.first else { throw FormatError("malformed _codecs.encode") }
            let encoding = arguments.count > 1 ? arguments[1].stringValue ?? "utf-8" : "utf-8"
            if encoding == "latin1" || encoding == "latin-1" {
                return .bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
            }
            return .bytes(Array(text.utf8))
        default:
            if PickleCallPolicy.recordedDataClasses.contains(qualified) {
                return .object(PickleObject(module: module, name: name, arguments: arguments))
            }
            if case .global(let m, let n)? = arguments.first, qualified == "copyreg.__newobj__" {
                return try instantiate(module: m, name: n, arguments: Array(arguments.dropFirst()))
            }
            throw FormatError("refused: the pickle calls \(qualified), which could run code; nothing was executed")
        }
    }

    /// NEWOBJ: `cls.__new__(cls, *arguments)`, which allocates without running user code.
    /// Recorded for any class outside the forbidden modules (checked at resolve time).
    func instantiate(module: String, name: String, arguments: [PickleValue]) throws -> PickleValue {
        let qualified = "\(module).\(name)"
        switch qualified {
        case "collections.OrderedDict", "builtins.dict", "collections.defaultdict", "builtins.set",
             "builtins.frozenset", "builtins.list", "builtins.tuple":
            return try call(module: module, name: name, arguments: [])
        default:
            return .object(PickleObject(module: module, name: name, arguments: arguments))
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    private func rebuildTensor(_ arguments: [PickleValue], dtype: ScalarType?, function: String) throws -> WeightTensor {
        // The arities PyTorch's own functions take; a call with more or fewer is no file
        // PyTorch wrote, and another loader might read it differently.
        let arities = ["_rebuild_tensor": 4...4, "_rebuild_tensor_v2": 6...7, "_rebuild_tensor_v3": 7...8]
        if let allowed = arities[function], !allowed.contains(arguments.count) {
            throw FormatError("\(function) called with \(arguments.count) arguments (PyTorch passes "
                + (allowed.count == 1 ? "\(allowed.lowerBound)" : "\(allowed.lowerBound) or \(allowed.upperBound)") + ")")
        }
        guard arguments.count >= 4, case .storage(let storage) = arguments[0],
              let offset = arguments[1].intValue,
              let size = arguments[2].sequence?.compactMap(\.intValue),
              let stride = arguments[3].sequence?.compactMap(\.intValue),
              size.count == arguments[2].sequence?.count, stride.count == arguments[3].sequence?.count else {
            throw FormatError("malformed \(function) arguments")
        }
        return try WeightTensor(name: "", dtype: dtype ?? storage.dtype, shape: size, strides: stride,
                                elementOffset: offset, storage: storage.slice)
    }
}
