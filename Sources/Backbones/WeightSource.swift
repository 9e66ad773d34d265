import Checkpoints
import Tensors

/// A checkpoint's tensors under the names a forward pass asks for, converted to Float32
/// when first asked for. Families whose files name things otherwise (DINOv2's chunked
/// blocks, transformers' `encoder.layer.N.attention…`) give a rename from their names to
/// the pass's, and `fuse` joins tensors a pass reads as one (separate q, k, v into qkv).
/// Every original name read is recorded, so the rest can be accounted for.
final class WeightSource: @unchecked Sendable {
    let checkpoint: Checkpoint
    let prefix: String
    /// A phrase for error lines: whose names the pass's names stand for.
    let naming: String?
    /// The pass's name → the original names it reads (several when fused, in order).
    private var originals: [String: [String]] = [:]
    private(set) var used: Set<String> = []
    /// Pass names made from several originals by a family's own rule (a masked bias, a bias
    /// with a zero part), with the originals they consume.
    private var derived: [String: (sources: [String], make: () throws -> Tensor)] = [:]

    /// `rename` maps a name with the prefix stripped onto the pass's name; nil keeps it.
    init(checkpoint: Checkpoint, prefix: String, naming: String? = nil, rename: ((String) -> String?)? = nil) {
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.naming = naming
        for name in checkpoint.names where name.hasPrefix(prefix) {
            let stripped = String(name.dropFirst(prefix.count))
            let canonical = rename?(stripped) ?? stripped
            if originals[canonical] == nil { originals[canonical] = [name] }
        }
    }

    /// Makes `name` read `parts` (pass names) concatenated along the first axis, when all
    /// of them exist; the parts themselves are then no longer offered.
    func fuse(_ name: String, from parts: [String]) {
        guard parts.allSatisfy({ originals[$0] != nil }) else { return }
        originals[name] = parts.flatMap { originals[$0]! }
        for part in parts { originals[part] = nil }
    }

    /// Makes `name` the tensor `make` computes from the pass names `parts` (all present),
    /// which are then no longer offered on their own.
    func derive(_ name: String, from parts: [String], _ make: @escaping ([Tensor]) throws -> Tensor) {
        guard parts.allSatisfy({ originals[$0] != nil }) else { return }
        let sources = parts.flatMap { originals[$0]! }
        let checkpoint = self.checkpoint
        let pieces = parts.map { (names: originals[$0]!, shape: shape($0) ?? []) }
        derived[name] = (sources, {
            try make(pieces.map { piece in Tensor(shape: piece.shape, scalars: piece.names.flatMap { checkpoint[$0]!.tensor().scalars }) })
        })
        for part in parts { originals[part] = nil }
        originals[name] = nil
    }

    func has(_ name: String) -> Bool { originals[name] != nil || derived[name] != nil }

    /// The shape the pass sees: fused parts stacked along the first axis.
    func shape(_ name: String) -> [Int]? {
        if let rule = derived[name] { return try? rule.make().shape }
        guard let sources = originals[name] else { return nil }
        let shapes = sources.compactMap { checkpoint[$0]?.shape }
        guard var shape = shapes.first, shapes.count == sources.count else { return nil }
        if shapes.count == 1 { return shape }
        guard shapes.allSatisfy({ $0.count == shape.count && !$0.isEmpty && Array($0.dropFirst()) == Array(shape.dropFirst()) }) else {
            return nil
        }
        if !shape.isEmpty { shape[0] = shapes.reduce(0) { $0 + $1[0] } }
        return shape
    }

    /// The original names behind a pass name (for messages). A name the file lacks is
    /// spelled as the file would have spelled it, from a sibling that differs only in its
    /// numbers (`blocks.1.mlp.fc1` from `blocks.0.mlp.fc1` ↔ `transformer.resblocks.0.mlp.c_fc`);
    /// failing that, as the pass spells it.
    func spelled(_ name: String) -> String {
        if let sources = originals[name] { return sources.joined(separator: " + ") }
        let (shape, numbers) = Self.numbers(name)
        // The sibling sharing most numbers with the name: only the others need mapping.
        let siblings = originals.filter { $0.value.count == 1 }.map { (canonical: $0.key, original: $0.value[0]) }
            .map { (sibling: $0, parts: Self.numbers($0.canonical)) }
            .filter { $0.parts.shape == shape && $0.parts.numbers.count == numbers.count }
            .sorted { a, b in
                let shared = { (x: [String]) in zip(x, numbers).filter { $0 == $1 }.count }
                return (shared(a.parts.numbers), a.sibling.canonical) > (shared(b.parts.numbers), b.sibling.canonical)
            }
        for candidate in siblings {
            let siblingNumbers = candidate.parts.numbers
            let (originalShape, originalNumbers) = Self.numbers(candidate.sibling.original)
            // Each number that differs replaces the original's number of the same value,
            // which must be there once.
            var replaced = originalNumbers
            var mapped = true
            for (index, value) in siblingNumbers.enumerated() where value != numbers[index] {
                guard originalNumbers.filter({ $0 == value }).count == 1, let position = originalNumbers.firstIndex(of: value) else {
                    mapped = false
                    break
                }
                replaced[position] = numbers[index]
            }
            guard mapped else { continue }
            var pieces = originalShape.components(separatedBy: "#")
            guard pieces.count == replaced.count + 1 else { continue }
            var text = pieces.removeFirst()
            for (number, piece) in zip(replaced, pieces) { text += number + piece }
            return text
        }
        return prefix + name + (naming.map { " (\($0))" } ?? "")
    }

    /// A name with its dot-separated numbers taken out (`blocks.#.mlp`) and the numbers.
    static func numbers(_ name: String) -> (shape: String, numbers: [String]) {
        var shape: [String] = [], numbers: [String] = []
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            if !part.isEmpty, part.allSatisfy(\.isNumber) {
                shape.append("#")
                numbers.append(String(part))
            } else {
                shape.append(String(part))
            }
        }
        return (shape.joined(separator: "."), numbers)
    }

    func tensor(_ name: String, shape expected: [Int]? = nil) throws -> Tensor {
        if let rule = derived[name] {
            let value = try rule.make()
            if let expected, value.shape != expected {
                throw UnknownArchitecture(reason: "'\(rule.sources.joined(separator: " + "))' give shape \(value.shape), expected \(expected)", sampleNames: [])
            }
            used.formUnion(rule.sources)
            return value
        }
        guard let sources = originals[name] else {
            throw UnknownArchitecture(reason: "missing tensor '\(spelled(name))'", sampleNames: [])
        }
        guard let shape = shape(name) else {
            throw UnknownArchitecture(reason: "'\(spelled(name))' have shapes that do not stack", sampleNames: [])
        }
        if let expected, shape != expected {
            throw UnknownArchitecture(reason: "'\(spelled(name))' has shape \(shape), expected \(expected)", sampleNames: [])
        }
        used.formUnion(sources)
        if sources.count == 1 { return checkpoint[sources[0]]!.tensor() }
        return Tensor(shape: shape, scalars: sources.flatMap { checkpoint[$0]!.tensor().scalars })
    }

    func optional(_ name: String, shape: [Int]? = nil) throws -> Tensor? {
        has(name) ? try tensor(name, shape: shape) : nil
    }

    /// The pass names offered, for families that look for patterns (block indices).
    var names: [String] { Array(originals.keys) + Array(derived.keys) }

    /// Names under the prefix that nothing read.
    var unusedNames: [String] {
        checkpoint.names.filter { $0.hasPrefix(prefix) && !used.contains($0) }
    }

    /// Names outside the backbone's prefix (another module of the file: a text tower, a
    /// training head, a student copy).
    var outsideNames: [String] {
        checkpoint.names.filter { !$0.hasPrefix(prefix) }
    }

    /// A block's name in a family's own layout: `blocks.<index>.<part>` for the blocks prefix
    /// `blocks.` given; nil for names outside the blocks.
    static func blockName(_ name: Substring, blocks: String) -> (index: Int, part: String)? {
        guard name.hasPrefix(blocks) else { return nil }
        let tail = name.dropFirst(blocks.count)
        guard let dot = tail.firstIndex(of: "."), let index = Int(tail[..<dot]) else { return nil }
        return (index, String(tail[tail.index(after: dot)...]))
    }

    /// Maps a block's name with `parts` (the family's part prefix → timm's); parts not
    /// listed keep their name under `blocks.<index>.`.
    static func timmBlockName(_ name: Substring, blocks: String, parts: [(String, String)]) -> String? {
        guard let (index, part) = blockName(name, blocks: blocks) else { return nil }
        for (from, to) in parts where part.hasPrefix(from) { return "blocks.\(index)." + to + part.dropFirst(from.count) }
        return "blocks.\(index).\(part)"
    }

    /// The prefix under which `suffix` appears (`module.backbone.` …), if any; a teacher's
    /// copy wins over a student's, then the shortest.
    static func prefix(of suffix: String, in checkpoint: Checkpoint) -> String? {
        let candidates = checkpoint.names.filter { $0 == suffix || $0.hasSuffix("." + suffix) }
            .map { String($0.dropLast(suffix.count)) }
        let teachers = candidates.filter { $0.contains("teacher") }
        return (teachers.isEmpty ? candidates : teachers).min { $0.count < $1.count }
    }
}
