import Foundation
import Testing
@testable import Tensors

/// The vector kernels against libm in Double, the independent reference.
struct VectorMathTests {
    /// A deterministic spread of inputs, dense near zero where relative errors show.
    static func inputs(_ range: ClosedRange<Double>, count: Int = 20_001) -> [Float] {
        (0..<count).map { i in Float(range.lowerBound + (range.upperBound - range.lowerBound) * Double(i) / Double(count - 1)) }
    }

    @Test func expMatchesLibmWithinTwoULPs() {
        var values = Self.inputs(-87...88)
        let reference = values.map { Foundation.exp(Double($0)) }
        values.withUnsafeMutableBufferPointer { VectorMath.exp($0) }
        for (got, want) in zip(values, reference) {
            #expect(abs(Double(got) - want) <= 2.5e-7 * want, "exp mismatch: \(got) vs \(want)")
        }
    }

    @Test func expUnderflowsAndSaturatesSafely() {
        #expect(VectorMath.exp(-1000) < 1e-37)
        #expect(VectorMath.exp(0) == 1)
        #expect(VectorMath.exp(88.3).isFinite)
    }

    @Test func erfMatchesLibmWithinAbramowitzStegunBound() {
        var values = Self.inputs(-6...6)
        let reference = values.map { Foundation.erf(Double($0)) }
        values.withUnsafeMutableBufferPointer { VectorMath.erf($0) }
        let worst = zip(values, reference).map { abs(Double($0) - $1) }.max()!
        #expect(worst <= 5e-7, "worst erf error \(worst)")
    }

    @Test func geluIsTheErfForm() {
        // Includes a tail shorter than one vector (7 values) to cover the scalar path.
        var values: [Float] = Self.inputs(-8...8, count: 4_103)
        let reference = values.map { x -> Double in
            let d = Double(x)
            return d * 0.5 * (1 + Foundation.erf(d / 2.0.squareRoot()))
        }
        values.withUnsafeMutableBufferPointer { VectorMath.gelu($0) }
        for (got, want) in zip(values, reference) {
            #expect(abs(Double(got) - want) <= 1e-6 * max(1, abs(want)), "gelu mismatch: \(got) vs \(want)")
        }
        // Hand-worked values: GELU(1) = 0.841344746…, GELU(-1) = -0.158655254…
        #expect(abs(Tensor(shape: [2], scalars: [1, -1]).gelu().scalars[0] - 0.841_344_7) < 1e-6)
        #expect(abs(Tensor(shape: [2], scalars: [1, -1]).gelu().scalars[1] + 0.158_655_25) < 1e-6)
    }

    @Test func softmaxRowsSumToOneAndMatchDouble() {
        let columns = 197
        let rows = 5
        let scalars = (0..<(rows * columns)).map { Float(sin(Double($0) * 0.37) * 12) }
        let result = Tensor(shape: [rows, columns], scalars: scalars).softmaxLastAxis()
        for r in 0..<rows {
            let row = scalars[(r * columns)..<((r + 1) * columns)].map(Double.init)
            let maximum = row.max()!
            let total = row.map { Foundation.exp($0 - maximum) }.reduce(0, +)
            for c in 0..<columns {
                let want = Foundation.exp(row[c] - maximum) / total
                #expect(abs(Double(result[r, c]) - want) <= 1e-6 * want + 1e-12)
            }
        }
    }

    @Test func softmaxOfEqualValuesIsUniform() {
        let result = Tensor(shape: [1, 4], scalars: [3, 3, 3, 3]).softmaxLastAxis()
        #expect(result.scalars == [0.25, 0.25, 0.25, 0.25])
    }

    @Test func layerNormMatchesHandComputation() {
        // Row [1, 2, 3, 4]: mean 2.5, biased variance 1.25.
        let x = Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])
        let weight = Tensor(shape: [4], scalars: [1, 2, 0.5, -1])
        let bias = Tensor(shape: [4], scalars: [0, 1, 0, 0.25])
        let y = x.layerNormLastAxis(weight: weight, bias: bias, eps: 1e-6)
        let inv = 1 / (1.25 + 1e-6).squareRoot()
        let expected = [-1.5 * inv * 1, -0.5 * inv * 2 + 1, 0.5 * inv * 0.5, 1.5 * inv * -1 + 0.25]
        for (got, want) in zip(y.scalars, expected) {
            #expect(abs(Double(got) - want) < 1e-6)
        }
    }

    @Test func parallelKernelsMatchSingleThreaded() {
        let scalars = (0..<(64 * 1536)).map { Float(cos(Double($0) * 0.013) * 4) }
        ComputeThreads.set(1)
        let one = Tensor(shape: [64, 1536], scalars: scalars)
        let single = (one.gelu(), one.softmaxLastAxis(), one.layerNormLastAxis(weight: nil, bias: nil, eps: 1e-5))
        ComputeThreads.set(2)
        let double = (one.gelu(), one.softmaxLastAxis(), one.layerNormLastAxis(weight: nil, bias: nil, eps: 1e-5))
        ComputeThreads.set(1)
        #expect(single.0 == double.0)
        #expect(single.1 == double.1)
        #expect(single.2 == double.2)
    }
}

/// The vector log against libm.
struct VectorLogTests {
    @Test func logMatchesLibm() {
        var values: [Float] = (0..<20_001).map { i in Float(Foundation.pow(10.0, -30 + 60 * Double(i) / 20_000)) }
        let reference = values.map { Foundation.log(Double($0)) }
        values.withUnsafeMutableBufferPointer { VectorMath.log($0) }
        for (got, want) in zip(values, reference) {
            #expect(abs(Double(got) - want) <= 3e-7 * max(1, abs(want)), "log mismatch: \(got) vs \(want)")
        }
    }

    @Test func powIsExpOfScaledLog() {
        var values: [Float] = [0.5, 1, 2, 3, 10, 1e-6, 7.25]
        values.withUnsafeMutableBufferPointer { VectorMath.pow($0, 1.25) }
        for (got, x) in zip(values, [0.5, 1, 2, 3, 10, 1e-6, 7.25]) {
            let want = Foundation.pow(x, 1.25)
            #expect(abs(Double(got) - want) <= 1e-6 * want)
        }
    }
}
