import Tensors

/// The weights of a learned attention-pool head: SigLIP's and timm's `AttentionPoolLatent`.
public struct AttentionPoolWeights: Sendable {
    /// `[latents, width]`: the learned queries (the first one gives the map and the vector).
    public let latent: Tensor
    public let queryWeight: Tensor, queryBias: Tensor?
    /// `[2·width, width]`: keys then values, head by head.
    public let keyValueWeight: Tensor, keyValueBias: Tensor?
    public let projectionWeight: Tensor, projectionBias: Tensor?
    public let normWeight: Tensor?, normBias: Tensor?
    public let fc1Weight: Tensor?, fc1Bias: Tensor?
    public let fc2Weight: Tensor?, fc2Bias: Tensor?
    public let heads: Int
    public let normEps: Float

    public init(latent: Tensor, queryWeight: Tensor, queryBias: Tensor?, keyValueWeight: Tensor, keyValueBias: Tensor?,
                projectionWeight: Tensor, projectionBias: Tensor?, normWeight: Tensor?, normBias: Tensor?,
                fc1Weight: Tensor?, fc1Bias: Tensor?, fc2Weight: Tensor?, fc2Bias: Tensor?, heads: Int, normEps: Float = 1e-6) {
        self.latent = latent
        self.queryWeight = queryWeight
        self.queryBias = queryBias
        self.keyValueWeight = keyValueWeight
        self.keyValueBias = keyValueBias
        self.projectionWeight = projectionWeight
        self.projectionBias = projectionBias
        self.normWeight = normWeight
        self.normBias = normBias
        self.fc1Weight = fc1Weight
        self.fc1Bias = fc1Bias
        self.fc2Weight = fc2Weight
        self.fc2Bias = fc2Bias
        self.heads = heads
        self.normEps = normEps
    }
}

/// `attnpool`: a learned query attending over the patches, the "learned query" instance of
/// the pooling framework beside SimPool's GAP-initialised one. q = W_q · latent, k and v
/// from the tokens, per head a = softmax(q·k_i / √(d/H)); the map is that attention (per
/// head, or fused), the pooled vector the head's output: proj(Σ a_i v_i), then
/// x + MLP(LayerNorm(x)), as timm's `AttentionPoolLatent` computes it.
public struct AttentionPoolHead: PoolingMethod {
    public let weights: AttentionPoolWeights?

    public init(weights: AttentionPoolWeights?) { self.weights = weights }

    public var name: String { "attnpool" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard let weights else { throw PoolingError("attnpool: this checkpoint has no attention-pool head (attn_pool.*)") }
        guard input.prefixTokens == 0 else {
            throw PoolingError("attnpool: the head would also read this model's \(input.prefixTokens) prefix tokens; only models without [CLS] are supported")
        }
        let (n, d) = (input.tokenCount, input.channels)
        guard weights.keyValueWeight.shape == [2 * d, d], weights.heads > 0, d % weights.heads == 0 else {
            throw PoolingError("attnpool: the head's key/value weights \(weights.keyValueWeight.shape) do not fit \(d)-wide features")
        }
        let heads = weights.heads, headWidth = d / heads
        let query = Tensor(shape: [1, weights.latent.shape[1]], scalars: Array(weights.latent.scalars[0..<weights.latent.shape[1]]))
            .linear(weight: weights.queryWeight, bias: weights.queryBias).scalars
        let keyValue = input.features.linear(weight: weights.keyValueWeight, bias: weights.keyValueBias)   // [N, 2d]
        let scale = 1 / Double(headWidth).squareRoot()
        var attention = [Float](repeating: 0, count: heads * n)
        var mixed = [Float](repeating: 0, count: d)
        for h in 0..<heads {
            var scores = [Double](repeating: 0, count: n)
            for i in 0..<n {
                var dot = 0.0
                for c in 0..<headWidth { dot += Double(query[h * headWidth + c]) * Double(keyValue.scalars[i * 2 * d + h * headWidth + c]) }
                scores[i] = dot * scale
            }
            let top = scores.max() ?? 0
            var total = 0.0
            for i in 0..<n { scores[i] = Foundation.exp(scores[i] - top); total += scores[i] }
            for i in 0..<n {
                let a = scores[i] / total
                attention[h * n + i] = Float(a)
                for c in 0..<headWidth { mixed[h * headWidth + c] += Float(a) * keyValue.scalars[i * 2 * d + d + h * headWidth + c] }
            }
        }
        var x = Tensor(shape: [1, d], scalars: mixed).linear(weight: weights.projectionWeight, bias: weights.projectionBias)
        if let fc1 = weights.fc1Weight, let fc2 = weights.fc2Weight {
            let normed = x.layerNormLastAxis(weight: weights.normWeight, bias: weights.normBias, eps: weights.normEps)
            let update = normed.linear(weight: fc1, bias: weights.fc1Bias, gelu: true).linear(weight: fc2, bias: weights.fc2Bias)
            for c in 0..<x.count { x.scalars[c] += update.scalars[c] }
        }
        let map = try attention.withUnsafeBufferPointer {
            try input.head.fuse($0, heads: heads, stride: n, offset: 0, count: n)
        }
        return PoolingResult(pooled: x.scalars, map: normalizedMap(map))
    }
}

import Foundation
