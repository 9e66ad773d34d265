/// Where the weights sit inside a pickled checkpoint, and how they are named.
///
/// Training scripts wrap the state dict: timm's `train.py` saves `state_dict` (and
/// `state_dict_ema`) beside `args` and `optimizer`; DINO saves `teacher` and `student`;
/// others use `model`. A known wrapper key wins, in the order below; otherwise the
/// top level if it holds tensors, otherwise the first nested dict that does.
enum ContainerSearch {
    /// Preferred entries, best first: the EMA or teacher weights are the ones evaluated.
    static let preferredEntries = ["state_dict_ema", "model_ema", "teacher", "state_dict", "model",
                                   "module", "net", "network", "params", "weights", "student"]

    /// Walks of the pickled object stop after this many values; shared references could
    /// otherwise make a small file expand into an exponential walk.
    static let visitBudget = 2_000_000

    static func locateWeights(in root: PickleValue) -> (entry: String?, value: PickleValue)? {
        if let dict = root.dictValue {
            for key in preferredEntries {
                if let value = dict[key], holdsTensors(value) { return (key, value) }
            }
            if dict.pairs.contains(where: { if case .tensor = $0.value { return true } else { return false } }) {
                return (nil, root)
            }
        }
        if case .tensor = root { return (nil, root) }
        var budget = visitBudget
        return firstTensorHolder(root, path: nil, budget: &budget)
    }

    static func keyText(_ key: PickleValue) -> String {
        switch key {
        case .string(let text): return text
        case .int(let value): return String(value)
        default: return "?"
        }
    }

    /// True when the value holds at least one tensor at any depth.
    static func holdsTensors(_ value: PickleValue) -> Bool {
        var budget = visitBudget
        return containsTensor(value, budget: &budget)
    }

    private static func containsTensor(_ value: PickleValue, budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        switch value {
        case .tensor: return true
        case .dict(let dict): return dict.pairs.contains { containsTensor($0.value, budget: &budget) }
        case .list, .tuple: return (value.sequence ?? []).contains { containsTensor($0, budget: &budget) }
        case .object(let object):
            if let state = object.state { return containsTensor(state, budget: &budget) }
            return false
        default: return false
        }
    }

    /// The first dict (depth-first) whose own values include a tensor.
    private static func firstTensorHolder(_ value: PickleValue, path: String?, budget: inout Int)
        -> (entry: String?, value: PickleValue)? {
        budget -= 1
        if budget < 0 { return nil }
        switch value {
        case .dict(let dict):
            if dict.pairs.contains(where: { if case .tensor = $0.value { return true } else { return false } }) {
                return (path, value)
            }
            for pair in dict.pairs {
                let key = keyText(pair.key)
                if let found = firstTensorHolder(pair.value, path: path.map { "\($0).\(key)" } ?? key, budget: &budget) {
                    return found
                }
            }
        case .list, .tuple:
            if (value.sequence ?? []).contains(where: { if case .tensor = $0 { return true } else { return false } }) {
                return (path, value)
            }
            for (i, item) in (value.sequence ?? []).enumerated() {
                if let found = firstTensorHolder(item, path: path.map { "\($0).\(i)" } ?? String(i), budget: &budget) {
                    return found
                }
            }
        case .object(let object):
            if let state = object.state { return firstTensorHolder(state, path: path, budget: &budget) }
        default: break
        }
        return nil
    }

    /// Names every tensor under `value` by its dotted key path.
    static func flatten(_ value: PickleValue, prefix: String, into tensors: inout [WeightTensor],
                        skipped: inout [String], budget: inout Int) {
        budget -= 1
        if budget < 0 { return }
        func join(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }
        switch value {
        case .tensor(let tensor):
            tensors.append(tensor.renamed(prefix))
        case .dict(let dict):
            for pair in dict.pairs {
                flatten(pair.value, prefix: join(keyText(pair.key)), into: &tensors, skipped: &skipped, budget: &budget)
            }
        case .list, .tuple:
            for (i, item) in (value.sequence ?? []).enumerated() {
                flatten(item, prefix: join(String(i)), into: &tensors, skipped: &skipped, budget: &budget)
            }
        default:
            if !prefix.isEmpty { skipped.append(prefix) }
        }
    }
}
