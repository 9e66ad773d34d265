import Foundation
import Tensors

/// Global average pooling: u = mean of rows; the map is uniform.
public struct GAPPooling: PoolingMethod {
    public init() {}
    public var name: String { "gap" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        let (n, d) = (input.tokenCount, input.channels)
        let sums = input.features.scalars.withUnsafeBufferPointer { ChannelKernels.weightedColumnSums($0.baseAddress!, n: n, d: d) }
        return PoolingResult(pooled: sums.map { Float($0 / Double(n)) },
                             map: [Float](repeating: 1 / Float(n), count: n))
    }
}

/// Max pooling: u_c = max_i x_ic; a_i = the share of channels whose maximum is at patch i
/// (the first such patch on ties).
public struct MaxPooling: PoolingMethod {
    public init() {}
    public var name: String { "max" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        let (n, d) = (input.tokenCount, input.channels)
        var winner = [Int](repeating: -1, count: d)
        let best = input.features.scalars.withUnsafeBufferPointer { buffer in
            let x = buffer.baseAddress!
            let best = ChannelKernels.columnMaxima(x, n: n, d: d)
            // The first patch holding each channel's maximum; stop once every channel has one.
            var missing = d
            for i in 0..<n where missing > 0 {
                let row = x + i * d
                for c in 0..<d where winner[c] < 0 && row[c] == best[c] {
                    winner[c] = i
                    missing -= 1
                }
            }
            return best
        }
        for c in 0..<d where winner[c] < 0 { winner[c] = 0 }   // NaN channels
        var counts = [Double](repeating: 0, count: n)
        for c in 0..<d { counts[winner[c]] += 1 }
        return PoolingResult(pooled: best, map: normalizedMap(counts))
    }
}

/// Generalized mean: u_c = (mean_i max(x_ic, ε)^p)^(1/p); a_i = mean over channels of patch
/// i's share of the channel's power sum. p = 1 is GAP, p → ∞ tends to max.
/// Powers are taken relative to each channel's largest value, so large p stays finite.
public struct GeMPooling: PoolingMethod {
    public static let epsilon: Float = 1e-6
    public let p: Double

    public init(p: Double = 3) { self.p = p }
    public var name: String { "gem" }
    public var parameterText: String { "p=\(formatParameter(p))" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard p > 0 else { throw PoolingError("gem: p must be positive, got \(p)") }
        let (n, d) = (input.tokenCount, input.channels)
        let epsilon = Self.epsilon
        let maxima = input.features.scalars.withUnsafeBufferPointer {
            ChannelKernels.columnMaxima($0.baseAddress!, n: n, d: d).map { Swift.max($0, epsilon) }
        }
        // shares = (max(x, ε) / max_c)^p, in (0, 1]: finite for any p. Quarter powers (GeM's
        // usual p = 3) are products and square roots; others go through exp(p · log r).
        var shares = input.features.scalars
        let inverse = maxima.map { 1 / $0 }
        let power = VectorMath.Power(Float(p))
        shares.withUnsafeMutableBufferPointer { values in
            inverse.withUnsafeBufferPointer { scale in
                let floor = VectorMath.Lanes(repeating: epsilon)
                ChannelKernels.mapRows(values.baseAddress!, n: n, d: d, channelConstants: scale.baseAddress!) { v, s in
                    let r = v.replacing(with: floor, where: v .< floor) * s
                    return power.apply(r)
                }
            }
        }
        return ChannelShares.pool(shares: shares, n: n, d: d) { c, mean in
            Float(Double(maxima[c]) * Foundation.pow(mean, 1 / p))
        }
    }
}

/// Log-sum-exp: u_c = m_c + (1/r) log mean_i exp(r (x_ic − m_c)), m_c = max_i x_ic;
/// a_i = mean over channels of softmax_i(r x_ic).
public struct LSEPooling: PoolingMethod {
    public let r: Double

    public init(r: Double = 10) { self.r = r }
    public var name: String { "lse" }
    public var parameterText: String { "r=\(formatParameter(r))" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        guard r > 0 else { throw PoolingError("lse: r must be positive, got \(r)") }
        let (n, d) = (input.tokenCount, input.channels)
        var exps = input.features.scalars
        let maximum = exps.withUnsafeBufferPointer { ChannelKernels.columnMaxima($0.baseAddress!, n: n, d: d) }
        let sharpness = Float(r)
        exps.withUnsafeMutableBufferPointer { values in
            maximum.withUnsafeBufferPointer { m in
                ChannelKernels.mapRows(values.baseAddress!, n: n, d: d, channelConstants: m.baseAddress!) { v, m in
                    VectorMath.exp(sharpness * (v - m))
                }
            }
        }
        return ChannelShares.pool(shares: exps, n: n, d: d) { c, mean in
            Float(Double(maximum[c]) + Foundation.log(mean) / r)
        }
    }
}

/// The shared tail of GeM and LSE: per-channel sums of positive terms give the pooled
/// value (from the mean term) and each patch's share, averaged over channels, the map.
enum ChannelShares {
    static func pool(shares: [Float], n: Int, d: Int, pooled: (Int, Double) -> Float) -> PoolingResult {
        let (sums, weights) = shares.withUnsafeBufferPointer { buffer in
            let s = buffer.baseAddress!
            let sums = ChannelKernels.weightedColumnSums(s, n: n, d: d)
            let inverse = sums.map { Float(1 / ($0 * Double(d))) }
            let weights = inverse.withUnsafeBufferPointer { ChannelKernels.rowDots(s, n: n, d: d, $0.baseAddress!) }
            return (sums, weights)
        }
        return PoolingResult(pooled: (0..<d).map { pooled($0, sums[$0] / Double(n)) }, map: normalizedMap(weights.map(Double.init)))
    }
}

/// HOW's L2 attention: a_i ∝ ‖x_i‖₂; u = Σ a_i x_i.
public struct HOWPooling: PoolingMethod {
    public init() {}
    public var name: String { "how" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        let (n, d) = (input.tokenCount, input.channels)
        let norms = input.features.scalars.withUnsafeBufferPointer { buffer in
            let x = buffer.baseAddress!
            return (0..<n).map { i in Double(ChannelKernels.dot(x + i * d, x + i * d, count: d)).squareRoot() }
        }
        let map = normalizedMap(norms)
        return PoolingResult(pooled: weightedSum(input.features, map), map: map)
    }
}

/// Σ_i a_i x_i (Float within blocks of rows, Double across them).
func weightedSum(_ features: Tensor, _ weights: [Float]) -> [Float] {
    let (n, d) = (features.shape[0], features.shape[1])
    return features.scalars.withUnsafeBufferPointer { x in
        weights.withUnsafeBufferPointer { w in
            ChannelKernels.weightedColumnSums(x.baseAddress!, n: n, d: d, weights: w.baseAddress!).map(Float.init)
        }
    }
}
