import Tensors

/// Column (per-channel) reductions over row-major `[N, d]` features, the inner loops of the
/// classic pooling methods. Rows are accumulated in Float (vectorised across channels) in
/// blocks of 64 and each block's partial sums are added in Double, so a 32×32 layer keeps
/// Double-level accuracy without converting every element.
enum ChannelKernels {
    static let block = 64

    /// Σ_i w_i · x_ic for every channel c (w = 1 when nil).
    static func weightedColumnSums(_ x: UnsafePointer<Float>, n: Int, d: Int, weights: UnsafePointer<Float>? = nil) -> [Double] {
        var sums = [Double](repeating: 0, count: d)
        var partial = [Float](repeating: 0, count: d)
        partial.withUnsafeMutableBufferPointer { p in
            let p = p.baseAddress!
            var start = 0
            while start < n {
                let end = min(n, start + block)
                p.update(repeating: 0, count: d)
                for i in start..<end {
                    let row = x + i * d
                    if let weights {
                        let w = weights[i]
                        for c in 0..<d { p[c] += w * row[c] }
                    } else {
                        for c in 0..<d { p[c] += row[c] }
                    }
                }
                for c in 0..<d { sums[c] += Double(p[c]) }
                start = end
            }
        }
        return sums
    }

    /// max_i x_ic for every channel.
    static func columnMaxima(_ x: UnsafePointer<Float>, n: Int, d: Int) -> [Float] {
        var best = [Float](repeating: -.infinity, count: d)
        best.withUnsafeMutableBufferPointer { b in
            let b = b.baseAddress!
            for i in 0..<n {
                let row = x + i * d
                for c in 0..<d { b[c] = row[c] > b[c] ? row[c] : b[c] }
            }
        }
        return best
    }

    /// Σ_c x_ic · v_c for every row i, eight channels at a time.
    static func rowDots(_ x: UnsafePointer<Float>, n: Int, d: Int, _ v: UnsafePointer<Float>) -> [Float] {
        (0..<n).map { i in dot(x + i * d, v, count: d) }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        typealias Lanes = SIMD8<Float>
        var sums = Lanes(repeating: 0)
        var c = 0
        while c + 8 <= count {
            sums += UnsafeRawPointer(a + c).loadUnaligned(as: Lanes.self) * UnsafeRawPointer(b + c).loadUnaligned(as: Lanes.self)
            c += 8
        }
        var total = sums.sum()
        while c < count {
            total += a[c] * b[c]
            c += 1
        }
        return total
    }

    /// In place over `[N, d]`: `values[i][c] = f(values[i][c], c)` with a per-channel
    /// constant vector handed to the lane function eight channels at a time.
    @inline(__always)
    static func mapRows(_ values: UnsafeMutablePointer<Float>, n: Int, d: Int, channelConstants: UnsafePointer<Float>,
                        _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) {
        typealias Lanes = SIMD8<Float>
        for i in 0..<n {
            let row = values + i * d
            var c = 0
            while c + 8 <= d {
                let v = UnsafeRawPointer(row + c).loadUnaligned(as: Lanes.self)
                let k = UnsafeRawPointer(channelConstants + c).loadUnaligned(as: Lanes.self)
                UnsafeMutableRawPointer(row + c).storeBytes(of: f(v, k), as: Lanes.self)
                c += 8
            }
            while c < d {
                row[c] = f(Lanes(repeating: row[c]), Lanes(repeating: channelConstants[c]))[0]
                c += 1
            }
        }
    }
}
