/// Vectorised elementwise kernels: exp, erf, GELU.
///
/// libm's scalar `expf` / `erff` per element cost a ViT-S forward tens of milliseconds;
/// these evaluate eight lanes at a time with polynomial approximations (errors stated on
/// each) and only touch scalar code for the tail of an array.
public enum VectorMath {
    public typealias Lanes = SIMD8<Float>
    /// Lanes per vector. Computed and inlinable, so that other modules see a constant: as a
    /// stored `let` every `load` and `store` outside this module called its accessor, and
    /// the Winograd output write was too large to inline.
    @inlinable public static var width: Int { Lanes.scalarCount }

    /// Eight values from `p`, or the first `lanes` of them and zeros after (the end of a
    /// row of channels).
    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>, lanes: Int) -> Lanes {
        if lanes == width { return UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
        var v = Lanes()
        for i in 0..<lanes { v[i] = p[i] }
        return v
    }

    /// The first `lanes` values of `v` written to `p`.
    @inlinable @inline(__always)
    public static func store(_ v: Lanes, to p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes == width {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
        } else {
            for i in 0..<lanes { p[i] = v[i] }
        }
    }

    // MARK: exp

    /// e^x for eight lanes. Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, then a
    /// degree-6 minimax polynomial for e^r (relative error below 2e-7 over the float range).
    /// Inputs below −87.3 give ≈1e-38 rather than 0; above 88.3 they saturate.
    @inlinable @inline(__always)
    public static func exp(_ x: Lanes) -> Lanes {
        // Compare-and-blend rather than `clamped(…)`, which the standard library leaves as a
        // generic call per vector (measured: 5% of a ViT forward pass).
        let low = Lanes(repeating: -87.3), high = Lanes(repeating: 88.3)
        let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        // Round x·log2(e) to an integer n by adding 1.5·2^23: the sum's low mantissa bits
        // then hold n, which avoids float→int conversions that Swift does not vectorise.
        // Every multiply-add is one fused instruction (`addingProduct`), rounded once: fewer
        // instructions and no less accurate (softmax over a 448-pixel ViT's attention: 0.69
        // ns an element with separate multiplies and adds).
        let magic = Lanes(repeating: 12_582_912)
        let shifted = magic.addingProduct(clamped, Lanes(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = clamped.addingProduct(n, Lanes(repeating: -0.693_359_375))
        r = r.addingProduct(n, Lanes(repeating: 2.121_944_40e-4))
        var p = Lanes(repeating: 1.987_569_15e-4)
        p = Lanes(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = Lanes(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = Lanes(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = Lanes(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = Lanes(repeating: 5.000_000_12e-1).addingProduct(p, r)
        let polynomial = r.addingProduct(p, r * r) + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let exponent = (integer &+ 127) &<< 23
        return polynomial * unsafeBitCast(exponent, to: Lanes.self)
    }

    /// Scalar e^x with the same approximation, for array tails.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        exp(Lanes(repeating: x))[0]
    }

    /// In place: `values[i] = e^values[i]`.
    public static func exp(_ values: UnsafeMutableBufferPointer<Float>) {
        map(values) { exp($0) }
    }

    // MARK: log

    /// Natural log for eight lanes of positive, normal inputs: x = 2^e·m with m in
    /// [√½, √2), then log(m) from a degree-8 polynomial in m − 1 (Cephes logf; relative
    /// error below 3e-7).
    @inlinable @inline(__always)
    public static func log(_ x: Lanes) -> Lanes {
        let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
        var exponent = (bits &>> 23) &- 126
        var mantissa = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: Lanes.self)   // in [0.5, 1)
        let small = mantissa .< 0.707_106_77
        exponent = exponent.replacing(with: exponent &- 1, where: small)
        mantissa = mantissa.replacing(with: mantissa + mantissa, where: small) - 1
        let z = mantissa * mantissa
        var p = Lanes(repeating: 7.037_683_6e-2)
        p = p * mantissa - 1.151_461_0e-1
        p = p * mantissa + 1.167_699_87e-1
        p = p * mantissa - 1.242_014_08e-1
        p = p * mantissa + 1.424_932_27e-1
        p = p * mantissa - 1.666_805_77e-1
        p = p * mantissa + 2.000_071_48e-1
        p = p * mantissa - 2.499_999_4e-1
        p = p * mantissa + 3.333_333_1e-1
        // Int32 → Float by the magic-number route: the generic lane conversion compiles to
        // per-lane scalar code (measured: it made log four times slower).
        let e = unsafeBitCast(exponent &+ 0x4B40_0000, to: Lanes.self) - 12_582_912
        var y = p * mantissa * z
        y = y + e * -2.121_944_40e-4
        y = y - 0.5 * z
        return mantissa + y + e * 0.693_359_375
    }

    /// In place: `values[i] = log(values[i])` for positive values.
    public static func log(_ values: UnsafeMutableBufferPointer<Float>) {
        map(values) { log($0) }
    }

    /// In place: `values[i] = (values[i] + shift)^power` for positive sums.
    public static func pow(_ values: UnsafeMutableBufferPointer<Float>, _ power: Float, adding shift: Float = 0) {
        let power = Power(power)
        map(values) { power.apply($0 + shift) }
    }

    /// x^p for positive x, eight lanes at a time: quarter powers by products and square
    /// roots, any other p as exp(p·log x). The choice is made once, not per element.
    public struct Power: Sendable {
        @usableFromInline let exponent: Float
        @usableFromInline let quarters: QuarterPower?

        public init(_ exponent: Float) {
            self.exponent = exponent
            quarters = QuarterPower(exponent)
        }

        @inlinable @inline(__always)
        public func apply(_ x: Lanes) -> Lanes {
            quarters?.apply(x) ?? VectorMath.exp(VectorMath.log(x) * exponent)
        }
    }

    /// x^p for p a multiple of ¼ up to 16 (SimPool's γ = 1.25 and 2, GeM's p = 3, and every
    /// step of the explorer's −/+ keys): products and square roots, exact to rounding and
    /// several times cheaper than exp(p·log x).
    public struct QuarterPower: Sendable {
        @usableFromInline let whole: Int
        @usableFromInline let quarters: Int

        public init?(_ power: Float) {
            let scaled = power * 4
            guard power > 0, power <= 16, scaled == scaled.rounded() else { return nil }
            whole = Int(power)
            quarters = Int(scaled) - 4 * whole
        }

        @inlinable @inline(__always)
        public func apply(_ x: Lanes) -> Lanes {
            var result = Lanes(repeating: 1), base = x, e = whole
            while e > 0 {
                if e & 1 == 1 { result *= base }
                base *= base
                e >>= 1
            }
            switch quarters {
            case 1: return result * x.squareRoot().squareRoot()
            case 2: return result * x.squareRoot()
            case 3:
                let root = x.squareRoot()
                return result * root * root.squareRoot()
            default: return result
            }
        }
    }

    // MARK: erf

    /// erf(x) for eight lanes: Abramowitz & Stegun 7.1.26 (error ≤ 1.5e-7 in exact arithmetic;
    /// ≤ 5e-7 absolute once evaluated in Float32).
    @inlinable @inline(__always)
    public static func erf(_ x: Lanes) -> Lanes {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = Lanes(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        p = p * t
        let magnitude = 1 - p * exp(-(a * a))
        return magnitude.replacing(with: -magnitude, where: x .< 0)
    }

    /// In place: `values[i] = erf(values[i])`.
    public static func erf(_ values: UnsafeMutableBufferPointer<Float>) {
        map(values) { erf($0) }
    }

    // MARK: GELU

    /// The exact (erf) GELU that PyTorch's `nn.GELU()` computes: x·½(1 + erf(x/√2)).
    @inlinable @inline(__always)
    public static func gelu(_ x: Lanes) -> Lanes {
        let half = Lanes(repeating: 0.5)
        let inverseRoot2 = Lanes(repeating: 0.707_106_781_186_547_5)
        return x * half * (1 + erf(x * inverseRoot2))
    }

    /// In place GELU over a buffer, split across the compute threads for large buffers.
    public static func gelu(_ values: UnsafeMutableBufferPointer<Float>, parallel: Bool = true) {
        guard parallel else {
            map(values) { gelu($0) }
            return
        }
        let chunks = (values.count + 4095) / 4096
        nonisolated(unsafe) let base = values.baseAddress
        ComputeThreads.parallelFor(chunks, minimumPerThread: 8) { range in
            let start = range.lowerBound * 4096
            let end = min(values.count, range.upperBound * 4096)
            map(UnsafeMutableBufferPointer(start: base! + start, count: end - start)) { gelu($0) }
        }
    }

    // MARK: helpers

    /// Applies a lane function in place; the tail is padded into one last vector.
    @inlinable @inline(__always)
    public static func map(_ values: UnsafeMutableBufferPointer<Float>, _ f: (Lanes) -> Lanes) {
        guard let base = values.baseAddress else { return }
        let count = values.count
        var i = 0
        while i + width <= count {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(base + i).storeBytes(of: f(v), as: Lanes.self)
            i += width
        }
        if i < count {
            var tail = Lanes(repeating: 0)
            for j in 0..<(count - i) { tail[j] = base[i + j] }
            let result = f(tail)
            for j in 0..<(count - i) { base[i + j] = result[j] }
        }
    }
}

extension VectorMath {
    /// The largest element (−∞ for an empty buffer), eight lanes at a time.
    public static func maximum(_ values: UnsafeBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress else { return -.infinity }
        let count = values.count
        var best = Lanes(repeating: -.infinity)
        var i = 0
        while i + width <= count {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: Lanes.self)
            best = best.replacing(with: v, where: v .> best)
            i += width
        }
        var result = best.max()
        while i < count {
            result = Swift.max(result, base[i])
            i += 1
        }
        return result
    }

    /// In place: `values[i] = max(values[i], 0)`.
    public static func relu(_ values: UnsafeMutableBufferPointer<Float>) {
        let zero = Lanes(repeating: 0)
        map(values) { $0.replacing(with: zero, where: $0 .< zero) }
    }

    /// In place: `values[i] = min(max(values[i], 0), 6)`.
    public static func relu6(_ values: UnsafeMutableBufferPointer<Float>) {
        let zero = Lanes(repeating: 0), six = Lanes(repeating: 6)
        map(values) { $0.replacing(with: zero, where: $0 .< zero).replacing(with: six, where: $0 .> six) }
    }

    /// In place: `values[i] += addend[i]`.
    public static func add(_ values: UnsafeMutableBufferPointer<Float>, _ addend: UnsafePointer<Float>) {
        guard let base = values.baseAddress else { return }
        for i in 0..<values.count { base[i] += addend[i] }
    }

    /// The smallest element (+∞ for an empty buffer).
    public static func minimum(_ values: UnsafeBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress else { return .infinity }
        var best = Lanes(repeating: .infinity)
        var i = 0
        while i + width <= values.count {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: Lanes.self)
            best = best.replacing(with: v, where: v .< best)
            i += width
        }
        var result = best.min()
        while i < values.count {
            result = Swift.min(result, base[i])
            i += 1
        }
        return result
    }

    /// In place: `values[i] *= factor`.
    public static func scale(_ values: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        map(values) { $0 * factor }
    }

    /// In place over row-major rows of `columns`: `rows[r][c] += (weights?[c] ?? 1) · addend[r][c]`.
    /// The residual connection, with or without LayerScale.
    public static func addRows(_ target: UnsafeMutableBufferPointer<Float>, _ addend: UnsafeBufferPointer<Float>,
                               columns: Int, weights: UnsafeBufferPointer<Float>?) {
        precondition(target.count == addend.count && columns > 0 && target.count % columns == 0)
        guard let weights else { return add(target, addend.baseAddress!) }
        let t = target.baseAddress!, a = addend.baseAddress!
        for r in 0..<target.count / columns {
            let row = t + r * columns, source = a + r * columns
            for c in 0..<columns { row[c] += weights[c] * source[c] }
        }
    }
}
