import Tensors

/// What a pooling method reads: one layer's patch features, and for the attention-based
/// methods ([CLS], rollout) the model's attention probabilities.
public struct PoolingInput: Sendable {
    /// `[N, d]` patch tokens (prefix tokens removed), row-major on the grid.
    public var features: Tensor
    public var gridHeight: Int?
    public var gridWidth: Int?
    /// The chosen block's attention `[heads, T, T]`, with `prefixTokens` leading tokens.
    public var attention: Tensor?
    /// Or only its [CLS] query row per head, `[heads, T]` (a compacted trace).
    public var classAttention: Tensor?
    /// Every block's attention up to the chosen one, first to last (for rollout).
    public var attentionStack: [Tensor]
    /// Rollout's row through the chosen block from its start token ([CLS], or the query
    /// patch's token when `queryPatch` is set), when the trace has it (length T); rollout
    /// with its default options then skips reading `attentionStack`.
    public var rolloutRow: [Float]?
    /// Or a way to compute that row when rollout asks for it, for traces that keep no
    /// attention (computing it costs a pass over every block's attention again).
    public var rolloutRowSource: (@Sendable () -> [Float]?)?
    public var prefixTokens: Int
    /// The layer's [CLS] token, when the model has one.
    public var classToken: [Float]?
    /// Patch-query mode: the query patch (0-based, row-major on the grid) and its token's
    /// attention rows at this block, `[heads, T]` over every token.
    public var queryPatch: Int?
    public var queryAttention: Tensor?
    /// Rollout's `[T·T]` transition matrices Â of every block up to the chosen one, first
    /// to last, when the caller keeps them (they depend on rollout's options).
    public var rolloutTransitions: [[Float]]?
    public var head: HeadSelection
    /// Architecture family, for defaults that differ (SimPool's γ is 1.25 on ViTs, 2 on CNNs).
    public var isTransformer: Bool

    public init(features: Tensor, gridHeight: Int? = nil, gridWidth: Int? = nil, attention: Tensor? = nil,
                classAttention: Tensor? = nil,
                attentionStack: [Tensor] = [], rolloutRow: [Float]? = nil, prefixTokens: Int = 0, classToken: [Float]? = nil,
                head: HeadSelection = .mean, isTransformer: Bool = true) {
        precondition(features.rank == 2, "features must be [N, d], got \(features.shape)")
        if let h = gridHeight, let w = gridWidth { precondition(h * w == features.shape[0], "grid \(h)×\(w) ≠ \(features.shape[0]) tokens") }
        self.features = features
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        self.attention = attention
        self.classAttention = classAttention
        self.attentionStack = attentionStack
        self.rolloutRow = rolloutRow
        self.prefixTokens = prefixTokens
        self.classToken = classToken
        self.head = head
        self.isTransformer = isTransformer
    }

    public var tokenCount: Int { features.shape[0] }
    public var channels: Int { features.shape[1] }
}

/// Which attention head a map shows, or how the heads are fused (elementwise over the
/// heads' raw attention, as vit-explain's `head_fusion` does).
public enum HeadSelection: Sendable, Equatable, Hashable, CustomStringConvertible {
    case mean
    case max
    case min
    case index(Int)

    public var description: String {
        switch self {
        case .mean: return "mean"
        case .max: return "max"
        case .min: return "min"
        case .index(let i): return String(i + 1)
        }
    }

    /// `mean`, `max`, `min` or a 1-based head number.
    public init?(parsing text: String) {
        switch text {
        case "mean": self = .mean
        case "max": self = .max
        case "min": self = .min
        default:
            guard let number = Int(text), number >= 1 else { return nil }
            self = .index(number - 1)
        }
    }

    /// True for the fusions (every head contributes).
    public var isFusion: Bool {
        if case .index = self { return false }
        return true
    }

    /// `values[h·stride + offset + i]` for i in 0..<count, fused over `heads` heads (or the
    /// one selected), in double.
    func fuse(_ values: UnsafeBufferPointer<Float>, heads: Int, stride: Int, offset: Int, count: Int) throws -> [Double] {
        if case .index(let i) = self {
            guard i >= 0 && i < heads else { throw PoolingError("head \(i + 1) does not exist (this layer has \(heads))") }
            return (0..<count).map { Double(values[i * stride + offset + $0]) }
        }
        var fused = (0..<count).map { Double(values[offset + $0]) }
        for h in 1..<Swift.max(1, heads) {
            let row = h * stride + offset
            for j in 0..<count {
                let value = Double(values[row + j])
                switch self {
                case .mean: fused[j] += value
                case .max: fused[j] = Swift.max(fused[j], value)
                case .min: fused[j] = Swift.min(fused[j], value)
                case .index: break
                }
            }
        }
        if self == .mean { for j in 0..<count { fused[j] /= Double(heads) } }
        return fused
    }
}

/// A pooled vector and its spatial map.
public struct PoolingResult: Sendable {
    /// Length d.
    public let pooled: [Float]
    /// Length N, non-negative, summing to 1.
    public let map: [Float]
    /// Signed weights where the method has them (GMP's α), before normalisation.
    public let signedWeights: [Float]?

    public init(pooled: [Float], map: [Float], signedWeights: [Float]? = nil) {
        self.pooled = pooled
        self.map = map
        self.signedWeights = signedWeights
    }
}

/// A method that cannot run on this input, as one line for the user.
public struct PoolingError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A pooling method with its parameters: a value, cheap to copy and compare.
public protocol PoolingMethod: Sendable {
    /// The name used on the command line (`gem`, `simpool-np` …).
    var name: String { get }
    /// Parameters as written after the name (`p=3`), for display and metadata.
    var parameterText: String { get }
    func pool(_ input: PoolingInput) throws -> PoolingResult
}

extension PoolingMethod {
    /// `name:params` as the command line writes it.
    public var specification: String { parameterText.isEmpty ? name : "\(name):\(parameterText)" }
}

/// Normalises non-negative weights to sum 1, or uniform when they are all zero.
func normalizedMap(_ weights: [Double]) -> [Float] {
    let total = weights.reduce(0, +)
    guard total > 0, total.isFinite else {
        return [Float](repeating: 1 / Float(max(weights.count, 1)), count: weights.count)
    }
    return weights.map { Float($0 / total) }
}

func formatParameter(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
}
