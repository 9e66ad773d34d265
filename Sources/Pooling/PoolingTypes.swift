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
    /// Rollout's [CLS] row through the chosen block, when the forward pass computed it
    /// (length T); rollout then skips reading `attentionStack`.
    public var rolloutRow: [Float]?
    public var prefixTokens: Int
    /// The layer's [CLS] token, when the model has one.
    public var classToken: [Float]?
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

/// Which attention head a map shows.
public enum HeadSelection: Sendable, Equatable, CustomStringConvertible {
    case mean
    case index(Int)

    public var description: String {
        switch self {
        case .mean: return "mean"
        case .index(let i): return String(i + 1)
        }
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
