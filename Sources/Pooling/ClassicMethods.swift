import Foundation
import Tensors

/// Global average pooling: u = mean of rows; the map is uniform.
public struct GAPPooling: PoolingMethod {
    public init() {}
    public var name: String { "gap" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        let (n, d) = (input.tokenCount, input.channels)
        var sums = [Double](repeating: 0, count: d)
        input.features.scalars.withUnsafeBufferPointer { x in
            for i in 0..<n { for c in 0..<d { sums[c] += Double(x[i * d + c]) } }
        }
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
        var best = [Float](repeating: -.infinity, count: d)
        var winner = [Int](repeating: 0, count: d)
        input.features.scalars.withUnsafeBufferPointer { x in
            for i in 0..<n {
                for c in 0..<d where x[i * d + c] > best[c] {
                    best[c] = x[i * d + c]
                    winner[c] = i
                }
            }
        }
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
        var logs = input.features.scalars.map { max($0, Self.epsilon) }
        var logMax = [Float](repeating: -.infinity, count: d)
        let power = Float(p)
        logs.withUnsafeMutableBufferPointer { values in
            VectorMath.log(values)
            logMax.withUnsafeMutableBufferPointer { top in
                for i in 0..<n { for c in 0..<d { top[c] = max(top[c], values[i * d + c]) } }
                // powers = exp(p · (log x − log max)), in place.
                for i in 0..<n { for c in 0..<d { values[i * d + c] = power * (values[i * d + c] - top[c]) } }
            }
            VectorMath.exp(values)
        }
        return ChannelShares.pool(shares: logs, n: n, d: d) { c, mean in
            Float(Foundation.exp(Double(logMax[c]) + Foundation.log(mean) / p))
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
        let x = input.features.scalars
        var maximum = [Float](repeating: -.infinity, count: d)
        for i in 0..<n { for c in 0..<d { maximum[c] = max(maximum[c], x[i * d + c]) } }
        let sharpness = Float(r)
        var exps = [Float](repeating: 0, count: n * d)
        for i in 0..<n { for c in 0..<d { exps[i * d + c] = sharpness * (x[i * d + c] - maximum[c]) } }
        exps.withUnsafeMutableBufferPointer { VectorMath.exp($0) }
        return ChannelShares.pool(shares: exps, n: n, d: d) { c, mean in
            Float(Double(maximum[c]) + Foundation.log(mean) / r)
        }
    }
}

/// The shared tail of GeM and LSE: per-channel sums of positive terms give the pooled
/// value (from the mean term) and each patch's share, averaged over channels, the map.
enum ChannelShares {
    static func pool(shares: [Float], n: Int, d: Int, pooled: (Int, Double) -> Float) -> PoolingResult {
        var sums = [Double](repeating: 0, count: d)
        var weights = [Double](repeating: 0, count: n)
        shares.withUnsafeBufferPointer { s in
            sums.withUnsafeMutableBufferPointer { total in
                for i in 0..<n { for c in 0..<d { total[c] += Double(s[i * d + c]) } }
            }
            let inverse = sums.map { Float(1 / ($0 * Double(d))) }
            for i in 0..<n {
                var total: Float = 0
                for c in 0..<d { total += s[i * d + c] * inverse[c] }
                weights[i] = Double(total)
            }
        }
        return PoolingResult(pooled: (0..<d).map { pooled($0, sums[$0] / Double(n)) }, map: normalizedMap(weights))
    }
}

/// HOW's L2 attention: a_i ∝ ‖x_i‖₂; u = Σ a_i x_i.
public struct HOWPooling: PoolingMethod {
    public init() {}
    public var name: String { "how" }
    public var parameterText: String { "" }

    public func pool(_ input: PoolingInput) throws -> PoolingResult {
        let (n, d) = (input.tokenCount, input.channels)
        var norms = [Double](repeating: 0, count: n)
        input.features.scalars.withUnsafeBufferPointer { x in
            for i in 0..<n {
                var squares = 0.0
                for c in 0..<d { squares += Double(x[i * d + c]) * Double(x[i * d + c]) }
                norms[i] = squares.squareRoot()
            }
        }
        let map = normalizedMap(norms)
        return PoolingResult(pooled: weightedSum(input.features, map), map: map)
    }
}

/// Σ_i a_i x_i in Double.
func weightedSum(_ features: Tensor, _ weights: [Float]) -> [Float] {
    let (n, d) = (features.shape[0], features.shape[1])
    var sums = [Double](repeating: 0, count: d)
    features.scalars.withUnsafeBufferPointer { x in
        for i in 0..<n {
            let w = Double(weights[i])
            for c in 0..<d { sums[c] += w * Double(x[i * d + c]) }
        }
    }
    return sums.map(Float.init)
}
