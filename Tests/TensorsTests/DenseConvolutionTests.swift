@testable import Tensors
import Testing
import TestSupport

/// The convolutions that are not Winograd's, against the definition summed in double:
/// 1×1 (stride 1 and 2), strided 3×3, a 7×7 stem on three channels (the folded kernel rows
/// over a zero-bordered copy), TensorFlow "same" padding, and depthwise ones, each with
/// residual and activation, on one and two threads, with each kernel.
struct DenseConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let inChannels, outChannels, height, width, kernel, stride: Int
        let padding: Convolution.Padding
        var depthwise = false
        var testDescription: String {
            "\(depthwise ? "depthwise " : "")\(kernel)×\(kernel)/\(stride) \(inChannels)→\(outChannels) \(height)×\(width) \(padding)"
        }
    }

    static let cases = [
        Case(inChannels: 24, outChannels: 40, height: 9, width: 7, kernel: 1, stride: 1, padding: .symmetric(0)),
        Case(inChannels: 20, outChannels: 33, height: 9, width: 8, kernel: 1, stride: 2, padding: .symmetric(0)),
        Case(inChannels: 17, outChannels: 16, height: 11, width: 10, kernel: 3, stride: 2, padding: .symmetric(1)),
        Case(inChannels: 64, outChannels: 70, height: 14, width: 14, kernel: 3, stride: 2, padding: .symmetric(1)),
        Case(inChannels: 3, outChannels: 20, height: 23, width: 18, kernel: 7, stride: 2, padding: .symmetric(3)),
        Case(inChannels: 3, outChannels: 8, height: 15, width: 16, kernel: 3, stride: 2, padding: .same),
        Case(inChannels: 18, outChannels: 18, height: 9, width: 11, kernel: 5, stride: 1, padding: .same),
        Case(inChannels: 20, outChannels: 20, height: 10, width: 9, kernel: 3, stride: 1, padding: .same, depthwise: true),
        Case(inChannels: 13, outChannels: 13, height: 11, width: 12, kernel: 5, stride: 2, padding: .same, depthwise: true),
    ]

    @Test(arguments: cases, [(1, MicrokernelShape.narrow), (2, .narrow), (1, .wide), (2, .wide)])
    func matchesTheDefinition(_ shape: Case, run: (threads: Int, microkernel: MicrokernelShape)) throws {
        let threads = run.threads
        var random = SeededGenerator(seed: UInt64(shape.inChannels * 131 + shape.height * 7 + shape.kernel))
        let perFilter = (shape.depthwise ? 1 : shape.inChannels) * shape.kernel * shape.kernel
        let weight = Tensor(shape: [shape.outChannels, shape.depthwise ? 1 : shape.inChannels, shape.kernel, shape.kernel],
                            scalars: (0..<(shape.outChannels * perFilter)).map { _ in Float(random.uniform()) - 0.5 })
        let convBias = Tensor(shape: [shape.outChannels], scalars: (0..<shape.outChannels).map { _ in Float(random.uniform()) })
        let convolution = Convolution(weight: weight, convBias: convBias, batchNorm: nil, eps: 0, stride: shape.stride,
                                      padding: shape.padding, depthwise: shape.depthwise, microkernel: run.microkernel)
        switch convolution.form {
        case .winograd: Issue.record("only 3×3 stride-1 dense convolutions take the Winograd form")
        case .dense(_, let folded): #expect(folded == (shape.inChannels < Convolution.foldsKernelRows))
        case .depthwise: #expect(shape.depthwise)
        }
        let input = (0..<(shape.inChannels * shape.height * shape.width)).map { _ in Float(random.uniform()) * 3 - 1 }
        let oh = convolution.outputSize(shape.height), ow = convolution.outputSize(shape.width)
        let top = convolution.leadingPad(shape.height), left = convolution.leadingPad(shape.width)
        let expected = WinogradConvolutionTests.definition(
            weight: weight, bias: convBias, input: input, height: shape.height, width: shape.width, stride: shape.stride,
            top: top, left: left, outputHeight: oh, outputWidth: ow, depthwise: shape.depthwise)
        let previous = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previous) }
        let plain = convolution.apply(input, height: shape.height, width: shape.width)
        #expect((plain.height, plain.width) == (oh, ow))
        #expect(WinogradConvolutionTests.relativeError(plain.values, expected) <= 1e-5)
        let activated = convolution.apply(input, height: shape.height, width: shape.width, activation: .relu6)
        #expect(WinogradConvolutionTests.relativeError(activated.values, expected.map { min(max($0, 0), 6) }) <= 1e-5)
        guard !shape.depthwise else { return }
        let residual = (0..<(shape.outChannels * oh * ow)).map { _ in Float(random.uniform()) }
        let fused = convolution.apply(input, height: shape.height, width: shape.width, activation: .relu, residual: residual)
        #expect(WinogradConvolutionTests.relativeError(fused.values, zip(expected, residual).map { max($0 + Double($1), 0) }) <= 1e-5)
    }
}

extension DenseConvolutionTests {
    /// A convolution keeps the row table of its last input size; inputs of other sizes in
    /// turn must each be read through their own.
    @Test(arguments: [(3, 7), (12, 3)])
    func inputsOfChangingSizesEachMatchTheDefinition(shape: (inChannels: Int, kernel: Int)) {
        var random = SeededGenerator(seed: UInt64(shape.inChannels * 17 + shape.kernel))
        let (cin, k, out) = (shape.inChannels, shape.kernel, 8)
        let weight = Tensor(shape: [out, cin, k, k], scalars: (0..<(out * cin * k * k)).map { _ in Float(random.uniform()) - 0.5 })
        let bias = Tensor(shape: [out], scalars: [Float](repeating: 0.25, count: out))
        let convolution = Convolution(weight: weight, convBias: bias, batchNorm: nil, eps: 0, stride: 2, padding: .symmetric(k / 2))
        for (height, width) in [(13, 11), (8, 9), (13, 11), (20, 6)] {
            let input = (0..<(cin * height * width)).map { _ in Float(random.uniform()) }
            let oh = convolution.outputSize(height), ow = convolution.outputSize(width)
            let expected = WinogradConvolutionTests.definition(
                weight: weight, bias: bias, input: input, height: height, width: width, stride: 2,
                top: k / 2, left: k / 2, outputHeight: oh, outputWidth: ow)
            let got = convolution.apply(input, height: height, width: width)
            #expect(WinogradConvolutionTests.relativeError(got.values, expected) <= 1e-5, "\(height)×\(width)")
        }
    }
}
