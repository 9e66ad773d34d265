import Tensors

/// Products of a float matrix (row-major `[n, d]`, the features as they are) with double
/// vectors, summed in double. Each float converts to double exactly, so these give what
/// BLAS `dgemv` gives on a double copy of the matrix while reading half the bytes and
/// needing no copy. Rows are split across the compute threads.
enum MixedPrecisionProducts {
    typealias Wide = SIMD4<Double>

    /// X v: Σ_c x_ic · v_c for every row i.
    static func rows(_ x: UnsafePointer<Float>, n: Int, d: Int, _ v: UnsafePointer<Double>) -> [Double] {
        [Double](unsafeUninitializedCapacity: n) { out, initialized in
            nonisolated(unsafe) let (x, v, target) = (x, v, out.baseAddress!)
            ComputeThreads.parallelFor(n, minimumPerThread: max(1, 32768 / max(1, d))) { range in
                for i in range {
                    let row = x + i * d
                    var sums = (Wide(repeating: 0), Wide(repeating: 0))
                    var c = 0
                    while c + 8 <= d {
                        let values = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self)
                        sums.0 += Wide(values.lowHalf) * UnsafeRawPointer(v + c).loadUnaligned(as: Wide.self)
                        sums.1 += Wide(values.highHalf) * UnsafeRawPointer(v + c + 4).loadUnaligned(as: Wide.self)
                        c += 8
                    }
                    var total = (sums.0 + sums.1).sum()
                    while c < d {
                        total += Double(row[c]) * v[c]
                        c += 1
                    }
                    target[i] = total
                }
            }
            initialized = n
        }
    }

    /// Xᵀ w: Σ_i w_i · x_ic for every column c.
    static func columns(_ x: UnsafePointer<Float>, n: Int, d: Int, _ w: UnsafePointer<Double>) -> [Double] {
        nonisolated(unsafe) let (x, w) = (x, w)
        return summedOverRows(n: n, d: d, parts: min(ComputeThreads.count, max(1, n * d / 32768))) { rows, out in
            for i in rows {
                let row = x + i * d, weight = Wide(repeating: w[i])
                var c = 0
                while c + 4 <= d {
                    let values = Wide(UnsafeRawPointer(row + c).loadUnaligned(as: SIMD4<Float>.self))
                    let sum = UnsafeRawPointer(out + c).loadUnaligned(as: Wide.self) + weight * values
                    UnsafeMutableRawPointer(out + c).storeBytes(of: sum, as: Wide.self)
                    c += 4
                }
                while c < d {
                    out[c] += w[i] * Double(row[c])
                    c += 1
                }
            }
        }
    }

    /// Xᵀ(X v), the Gram matrix XᵀX applied without forming it, in one pass over X: each
    /// row's dot product with v, then that multiple of the row added, while the row is in
    /// L1. Reading X once instead of twice is most of a conjugate-gradient step's cost.
    /// Each thread sums its rows into its own vector; the vectors are added at the end.
    /// The dot products, X v, go to `rowProducts` (n values) on the way.
    static func gram(_ x: UnsafePointer<Float>, n: Int, d: Int, _ v: UnsafePointer<Double>,
                     rowProducts: UnsafeMutablePointer<Double>) -> [Double] {
        typealias Lanes = SIMD8<Double>
        nonisolated(unsafe) let (x, v, rowProducts) = (x, v, rowProducts)
        return summedOverRows(n: n, d: d, parts: min(ComputeThreads.count, max(1, n * d / 65536))) { rows, out in
            // Rows two at a time: their dot products are independent chains that overlap,
            // and the sums take both rows in one load and store (a 1024×384 pass: 84 → 61 µs).
            var i = rows.lowerBound
            while i + 2 <= rows.upperBound {
                let first = x + i * d, second = first + d
                var dots = (Lanes(), Lanes(), Lanes(), Lanes())
                var c = 0
                while c + 16 <= d {
                    let a = UnsafeRawPointer(first + c).loadUnaligned(as: SIMD16<Float>.self)
                    let b = UnsafeRawPointer(second + c).loadUnaligned(as: SIMD16<Float>.self)
                    let (v0, v1) = (UnsafeRawPointer(v + c).loadUnaligned(as: Lanes.self),
                                    UnsafeRawPointer(v + c + 8).loadUnaligned(as: Lanes.self))
                    dots.0.addProduct(Lanes(a.lowHalf), v0)
                    dots.1.addProduct(Lanes(a.highHalf), v1)
                    dots.2.addProduct(Lanes(b.lowHalf), v0)
                    dots.3.addProduct(Lanes(b.highHalf), v1)
                    c += 16
                }
                var (s, t) = ((dots.0 + dots.1).sum(), (dots.2 + dots.3).sum())
                while c < d {
                    s += Double(first[c]) * v[c]
                    t += Double(second[c]) * v[c]
                    c += 1
                }
                rowProducts[i] = s
                rowProducts[i + 1] = t
                let (weightA, weightB) = (Lanes(repeating: s), Lanes(repeating: t))
                c = 0
                while c + 8 <= d {
                    var sum = UnsafeRawPointer(out + c).loadUnaligned(as: Lanes.self)
                    sum.addProduct(weightA, Lanes(UnsafeRawPointer(first + c).loadUnaligned(as: SIMD8<Float>.self)))
                    sum.addProduct(weightB, Lanes(UnsafeRawPointer(second + c).loadUnaligned(as: SIMD8<Float>.self)))
                    UnsafeMutableRawPointer(out + c).storeBytes(of: sum, as: Lanes.self)
                    c += 8
                }
                while c < d {
                    out[c] += s * Double(first[c]) + t * Double(second[c])
                    c += 1
                }
                i += 2
            }
            if i < rows.upperBound {
                let row = x + i * d
                var t = 0.0
                for c in 0..<d { t += Double(row[c]) * v[c] }
                rowProducts[i] = t
                for c in 0..<d { out[c] += t * Double(row[c]) }
            }
        }
    }

    /// Runs `body(rows, sums)` over X's rows cut into `parts` ranges, one per thread at a
    /// time, each adding into its own `d` sums (zeroed), and returns the sums added up.
    private static func summedOverRows(n: Int, d: Int, parts: Int,
                                       _ body: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        var partial = [Double](repeating: 0, count: parts * d)
        partial.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let sums = buffer.baseAddress!
            ComputeThreads.parallelFor(parts) { indices in
                for part in indices { body((part * n / parts)..<((part + 1) * n / parts), sums + part * d) }
            }
        }
        guard parts > 1 else { return partial }
        return (0..<d).map { c in (0..<parts).reduce(0) { $0 + partial[$1 * d + c] } }
    }
}
