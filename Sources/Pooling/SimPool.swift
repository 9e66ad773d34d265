import Foundation
import Tensors

/// The learned part of a SimPool head, as the official module holds it.
public struct SimPoolWeights: Sendable {
    /// `[d, d]`, PyTorch's `[out, in]` layout.
    public let queryWeight: Tensor
    public let keyWeight: Tensor
    public let queryBias: Tensor?
    public let keyBias: Tensor?
    /// LayerNorm affine of `norm_patches` (eps 1e-6).
    public let normWeight: Tensor?
    public let normBias: Tensor?
    /// The learned translation added after the power mean, when trained with it.
    public let beta: Float?

    public init(queryWeight: Tensor, keyWeight: Tensor, queryBias: Tensor? = nil, keyBias: Tensor? = nil,
                normWeight: Tensor?, normBias: Tensor?, beta: Float? = nil) {
        self.queryWeight = queryWeight
        self.keyWeight = keyWeight
        self.queryBias = queryBias
        self.keyBias = keyBias
        self.normWeight = normWeight
        self.normBias = normBias
        self.beta = beta
    }
}

/// SimPool (Psomas et al., ICCV 2023), exactly as the official module computes it:
/// u⁰ = mean of the raw rows; X̂ = LayerNorm(X) (eps 1e-6); q = W_q u⁰, k_i = W_k x̂_i;
/// per head h: a = softmax_i(q_h·k_{i,h} / √(d/H) / temperature); without γ u_h = Σ a_i x̂_{i,h};
/// with γ u_h = (Σ a_i (x̂_{i,h} − m + 1e-6)^γ)^(1/γ) (+β), m the minimum of all of X̂.
/// Without learned weights (`simpool-np`) W_q = W_k = I and the LayerNorm has no affine.
/// The map is the mean of the heads' attention.
public struct SimPoolPooling: PoolingMethod {
    public let weights: SimPoolWeights?
    /// nil: no power mean (the plain weighted average).
    public let gamma: Double?
    public let heads: Int
    public let temperature: Double

    public init(weights: SimPoolWeights?, gamma: Double?, heads: Int = 1, temperature: Double = 1) {
        self.weights = weights
        self.gamma = gamma
        self.heads = heads
        self.temperature = temperature
    }

    public var name: String { weights == nil ? "simpool-np" : "simpool" }

    public var parameterText: String {
        var parts = ["gamma=\(gamma.map(formatParameter) ?? "none")"]
        if heads != 1 { parts.append("heads=\(heads)") }
        if temperature != 1 { parts.append("temperature=\(formatParameter(temperature))") }
        return parts.joined(separator: ",")
    }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        let (n, d) = (input.tokenCount, input.channels)
        guard heads >= 1, d % heads == 0 else { throw PoolingError("\(name): \(d) channels do not split into \(heads) heads") }
        guard temperature > 0 else { throw PoolingError("\(name): temperature must be positive") }
        if let gamma, gamma <= 0 { throw PoolingError("\(name): gamma must be positive, got \(gamma)") }
        if let weights, weights.queryWeight.shape != [d, d] || weights.keyWeight.shape != [d, d] {
            throw PoolingError("simpool: the head's weights are \(weights.queryWeight.shape), features have \(d) channels")
        }
        let x = input.features
        // Query from the mean of the raw tokens.
        var mean = [Float](repeating: 0, count: d)
        for c in 0..<d {
            var s = 0.0
            for i in 0..<n { s += Double(x.scalars[i * d + c]) }
            mean[c] = Float(s / Double(n))
        }
        var query = Tensor(shape: [1, d], scalars: mean)
        let normalized = x.layerNormLastAxis(weight: weights?.normWeight, bias: weights?.normBias, eps: 1e-6)
        var keys = normalized
        if let weights {
            query = query.linear(weight: weights.queryWeight, bias: weights.queryBias)
            keys = normalized.linear(weight: weights.keyWeight, bias: weights.keyBias)
        }
        let headWidth = d / heads
        let scale = 1 / (Double(headWidth).squareRoot() * temperature)
        let minimum = gamma == nil ? 0 : Double(normalized.scalars.min() ?? 0)
        var pooled = [Float](repeating: 0, count: d)
        var map = [Double](repeating: 0, count: n)
        var logits = [Double](repeating: 0, count: n)
        for h in 0..<heads {
            let channels = (h * headWidth)..<((h + 1) * headWidth)
            for i in 0..<n {
                var dot = 0.0
                for c in channels { dot += Double(query.scalars[c]) * Double(keys.scalars[i * d + c]) }
                logits[i] = dot * scale
            }
            let top = logits.max() ?? 0
            var total = 0.0
            for i in 0..<n {
                logits[i] = Foundation.exp(logits[i] - top)
                total += logits[i]
            }
            for i in 0..<n {
                logits[i] /= total
                map[i] += logits[i] / Double(heads)
            }
            for c in channels {
                var s = 0.0
                if let gamma {
                    for i in 0..<n { s += logits[i] * Foundation.pow(Double(normalized.scalars[i * d + c]) - minimum + 1e-6, gamma) }
                    s = Foundation.pow(s, 1 / gamma) + Double(weights?.beta ?? 0)
                } else {
                    for i in 0..<n { s += logits[i] * Double(normalized.scalars[i * d + c]) }
                }
                pooled[c] = Float(s)
            }
        }
        return PoolingResult(pooled: pooled, map: normalizedMap(map))
    }
}
