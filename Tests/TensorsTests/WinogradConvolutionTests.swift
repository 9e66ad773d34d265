import Foundation
@testable import Tensors
import Testing
import TestSupport

/// The Winograd path of 3×3 stride-1 convolutions against the convolution's definition,
/// summed in double by a plain loop here, on channels-last maps: odd and even sizes (a
/// half-used last tile), channel counts that are not multiples of 8, every padding,
/// residual and activation (ReLU, ReLU6, GELU), tiles taken block by block and all at
/// once, one and two threads, each kernel, F(2×2) and F(4×4).
struct WinogradConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let inChannels, outChannels, height, width: Int
        let padding: Convolution.Padding
        var testDescription: String { "\(inChannels)→\(outChannels) \(height)×\(width) \(padding)" }
    }

    static let cases = [
        Case(inChannels: 8, outChannels: 12, height: 8, width: 8, padding: .symmetric(1)),
        Case(inChannels: 5, outChannels: 3, height: 7, width: 9, padding: .symmetric(1)),
        Case(inChannels: 16, outChannels: 16, height: 1, width: 1, padding: .symmetric(1)),
        Case(inChannels: 3, outChannels: 4, height: 6, width: 5, padding: .symmetric(0)),
        Case(inChannels: 4, outChannels: 6, height: 5, width: 6, padding: .symmetric(2)),
        Case(inChannels: 7, outChannels: 5, height: 9, width: 4, padding: .same),
        Case(inChannels: 64, outChannels: 32, height: 14, width: 14, padding: .symmetric(1)),
        Case(inChannels: 6, outChannels: 5, height: 11, width: 37, padding: .symmetric(1)),
        Case(inChannels: 9, outChannels: 7, height: 16, width: 32, padding: .symmetric(1)),
        Case(inChannels: 4, outChannels: 4, height: 18, width: 34, padding: .same),
        // Tiles in several blocks (transformed, multiplied and transformed back block by
        // block), the last one partial.
        Case(inChannels: 64, outChannels: 32, height: 28, width: 29, padding: .symmetric(1)),
        // Filters too large to stay in L2 with either tile: every tile transformed first, then
        // the products.
        Case(inChannels: 128, outChannels: 100, height: 9, width: 10, padding: .symmetric(1)),
    ]

    @Test(arguments: cases, [(1, MicrokernelShape.narrow, WinogradTile.two), (2, .narrow, .two), (1, .wide, .two), (2, .wide, .two),
                             (1, .narrow, .four), (2, .narrow, .four), (1, .wide, .four), (2, .wide, .four)])
    func matchesTheDefinition(_ shape: Case, run: (threads: Int, microkernel: MicrokernelShape, tile: WinogradTile)) throws {
        let threads = run.threads
        var random = SeededGenerator(seed: UInt64(shape.inChannels * 131 + shape.height * 7 + shape.width))
        let weight = Tensor(shape: [shape.outChannels, shape.inChannels, 3, 3],
                            scalars: (0..<(shape.outChannels * shape.inChannels * 9)).map { _ in Float(random.uniform()) })
        let convBias = Tensor(shape: [shape.outChannels], scalars: (0..<shape.outChannels).map { _ in Float(random.uniform()) })
        let convolution = Convolution(weight: weight, convBias: convBias, batchNorm: nil, eps: 0, stride: 1, padding: shape.padding,
                                      microkernel: run.microkernel, winogradTile: run.tile)
        guard case .winograd(let winograd) = convolution.form, winograd.tile == run.tile else {
            Issue.record("a 3×3 stride-1 convolution must take the Winograd form with the tile asked for")
            return
        }
        let input = (0..<(shape.inChannels * shape.height * shape.width)).map { _ in Float(random.uniform()) * 3 }
        let oh = convolution.outputSize(shape.height), ow = convolution.outputSize(shape.width)
        let residual = (0..<(shape.outChannels * oh * ow)).map { _ in Float(random.uniform()) }
        let top = convolution.leadingPad(shape.height), left = convolution.leadingPad(shape.width)

        let expected = Self.definition(weight: weight, bias: convBias, input: input, height: shape.height, width: shape.width,
                                       stride: 1, top: top, left: left, outputHeight: oh, outputWidth: ow)
        let previous = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previous) }
        let plain = convolution.apply(input, height: shape.height, width: shape.width)
        #expect((plain.height, plain.width) == (oh, ow))
        #expect(Self.relativeError(plain.values, expected) <= 1e-5)
        let fused = convolution.apply(input, height: shape.height, width: shape.width, activation: .relu, residual: residual)
        let fusedExpected = zip(expected, residual).map { max($0 + Double($1), 0) }
        #expect(Self.relativeError(fused.values, fusedExpected) <= 1e-5)
        #expect(fused.values.filter { $0 == 0 }.count == fusedExpected.filter { $0 == 0 }.count)
        // ReLU6 is a clamp like ReLU; GELU (x·Φ(x)) is applied after the output transform.
        // The residual is shifted down so that both sides of each activation's bend occur.
        // Both change a value by at most 1.13 times a change of their input, so the errors
        // are measured against the size of the sums before the activation.
        let shifted = residual.map { $0 - 8 }
        let sums = zip(expected, shifted).map { $0 + Double($1) }
        let scale = sums.map(abs).max() ?? 0
        let clamped = convolution.apply(input, height: shape.height, width: shape.width, activation: .relu6, residual: shifted)
        #expect(Self.relativeError(clamped.values, sums.map { min(max($0, 0), 6) }, scale: scale) <= 1e-5)
        let smooth = convolution.apply(input, height: shape.height, width: shape.width, activation: .gelu, residual: shifted)
        #expect(Self.relativeError(smooth.values, sums.map { $0 * 0.5 * (1 + erf($0 / 2.0.squareRoot())) }, scale: scale) <= 1e-5)
    }

    /// Σ over channels and kernel offsets, in double, zero outside the image, on
    /// channels-last maps: input `[height, width, in]`, output `[oh, ow, out]`; `weight` in
    /// PyTorch's `[out, in, k, k]` (`[out, 1, k, k]` with `depthwise`).
    static func definition(weight: Tensor, bias: Tensor, input: [Float], height: Int, width: Int, stride: Int,
                           top: Int, left: Int, outputHeight oh: Int, outputWidth ow: Int, depthwise: Bool = false) -> [Double] {
        let out = weight.shape[0], k = weight.shape[2]
        let cin = depthwise ? out : weight.shape[1]
        var expected = [Double](repeating: 0, count: out * oh * ow)
        for o in 0..<out {
            for y in 0..<oh {
                for x in 0..<ow {
                    var sum = Double(bias.scalars[o])
                    for c in depthwise ? o..<(o + 1) : 0..<cin {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = y * stride + ky - top, ix = x * stride + kx - left
                                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                                let filter = depthwise ? (o * k + ky) * k + kx : ((o * cin + c) * k + ky) * k + kx
                                sum += Double(weight.scalars[filter]) * Double(input[(iy * width + ix) * cin + c])
                            }
                        }
                    }
                    expected[(y * ow + x) * out + o] = sum
                }
            }
        }
        return expected
    }

    /// The largest difference over `scale`, by default the largest expected value.
    static func relativeError(_ got: [Float], _ want: [Double], scale: Double? = nil) -> Double {
        let scale = max(scale ?? want.map(abs).max() ?? 0, 1e-12)
        return zip(got, want).map { abs(Double($0) - $1) }.max()! / scale
    }
}
