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
        let ones = [Float](repeating: 1 / Float(n), count: n)
        x.scalars.withUnsafeBufferPointer { GEMM.multiplyVector(m: n, n: d, a: $0.baseAddress!, transpose: true, x: ones, y: &mean) }
        var query = Tensor(shape: [1, d], scalars: mean)
        let normalized = x.layerNormLastAxis(weight: weights?.normWeight, bias: weights?.normBias, eps: 1e-6)
        var keys = normalized
        if let weights {
            query = query.linear(weight: weights.queryWeight, bias: weights.queryBias)
            keys = normalized.linear(weight: weights.keyWeight, bias: weights.keyBias)
        }
        let headWidth = d / heads
        let scale = Float(1 / (Double(headWidth).squareRoot() * temperature))
        // Values: X̂ itself, or (X̂ − min + 1e-6)^γ for the power mean.
        var values = normalized.scalars
        if let gamma {
            let shift = 1e-6 - values.withUnsafeBufferPointer { VectorMath.minimum($0) }
            values.withUnsafeMutableBufferPointer { VectorMath.pow($0, Float(gamma), adding: shift) }
        }
        var pooled = [Float](repeating: 0, count: d)
        var map = [Double](repeating: 0, count: n)
        var attention = [Float](repeating: 0, count: n)
        keys.scalars.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                query.scalars.withUnsafeBufferPointer { q in
                    pooled.withUnsafeMutableBufferPointer { u in
                        for h in 0..<heads {
                            let offset = h * headWidth
                            // logits_i = (k_{i,h} · q_h) · scale, then a softmax over the patches.
                            GEMM.multiplyVector(m: n, n: headWidth, a: k.baseAddress! + offset, lda: d,
                                                x: q.baseAddress! + offset, y: &attention, alpha: scale)
                            attention.withUnsafeMutableBufferPointer { RowOps.softmax($0, columns: n) }
                            for i in 0..<n { map[i] += Double(attention[i]) / Double(heads) }
                            // u_h = Σ_i a_i v_{i,h}
                            GEMM.multiplyVector(m: n, n: headWidth, a: v.baseAddress! + offset, lda: d, transpose: true,
                                                x: attention, y: u.baseAddress! + offset)
                        }
                    }
                }
            }
        }
        if let gamma {
            let beta = weights?.beta ?? 0
            pooled = pooled.map { Float(Foundation.pow(Double($0), 1 / gamma)) + beta }
        }
        return PoolingResult(pooled: pooled, map: normalizedMap(map))
    }
}
