import Foundation
import Tensors

// Prints sgemm throughput for the shapes of a ViT-S block (197 tokens, width 384) on one
// and two threads: the ceiling every forward-pass number should be compared with.
//   swift run -c release gemm-benchmark

struct Shape {
    let name: String
    let m: Int, k: Int, n: Int
}

let shapes = [
    Shape(name: "qkv   197×384 · 384×1152", m: 197, k: 384, n: 1152),
    Shape(name: "proj  197×384 · 384×384 ", m: 197, k: 384, n: 384),
    Shape(name: "fc1   197×384 · 384×1536", m: 197, k: 384, n: 1536),
    Shape(name: "fc2   197×1536 · 1536×384", m: 197, k: 1536, n: 384),
]

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Median seconds of `body` over `runs` runs after `warmUp` more (they warm caches and threads).
func medianSeconds(runs: Int, warmUp: Int = 10, _ body: () -> Void) -> Double {
    var samples: [Double] = []
    for run in 0..<(warmUp + runs) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        if run >= warmUp { samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
    }
    return median(samples)
}

func measure(_ shape: Shape, threads: Int) -> (milliseconds: Double, gflops: Double) {
    ComputeThreads.set(threads)
    let a = [Float]((0..<(shape.m * shape.k)).map { Float($0 % 17) / 17 })
    let b = [Float]((0..<(shape.k * shape.n)).map { Float($0 % 13) / 13 })
    var c = [Float](repeating: 0, count: shape.m * shape.n)
    let seconds = medianSeconds(runs: 50) {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    GEMM.multiply(m: shape.m, n: shape.n, k: shape.k, a: ap.baseAddress!,
                                  b: bp.baseAddress!, transposeB: false, c: cp.baseAddress!)
                }
            }
        }
    }
    return (seconds * 1e3, 2 * Double(shape.m * shape.k * shape.n) / seconds / 1e9)
}

print("sgemm (BLAS), median of 50 runs after 10 warm-up runs")
for shape in shapes {
    let one = measure(shape, threads: 1)
    let two = measure(shape, threads: 2)
    print("\(shape.name)   1 thread: \(String(format: "%6.3f", one.milliseconds)) ms \(String(format: "%6.1f", one.gflops)) GFLOP/s"
        + "   2 threads: \(String(format: "%6.3f", two.milliseconds)) ms \(String(format: "%6.1f", two.gflops)) GFLOP/s")
}

// Convolution products of a ResNet-50 at 224 (output channels × input channels·k² × pixels,
// and the Winograd products, × tiles): BLAS against the packed-weight kernel, both with the
// convolution's bias and ReLU.
let convolutionShapes = [
    Shape(name: "stem   64×147 · 147×12544", m: 64, k: 147, n: 12544),
    Shape(name: "l1 1×1 256×64 · 64×3136 ", m: 256, k: 64, n: 3136),
    Shape(name: "l1 1×1 64×256 · 256×3136", m: 64, k: 256, n: 3136),
    Shape(name: "l1 wino 64×64 · 64×784  ", m: 64, k: 64, n: 784),
    Shape(name: "l2 1×1 512×128 · 128×784", m: 512, k: 128, n: 784),
    Shape(name: "l2 wino 128×128 · 128×196", m: 128, k: 128, n: 196),
    Shape(name: "l3 1×1 1024×256 · 256×196", m: 1024, k: 256, n: 196),
    Shape(name: "l3 1×1 256×1024 · 1024×196", m: 256, k: 1024, n: 196),
    Shape(name: "l3 wino 256×256 · 256×49", m: 256, k: 256, n: 49),
    Shape(name: "l4 3×3s2 512×4608 · 4608×49", m: 512, k: 4608, n: 49),
    Shape(name: "l4 1×1 2048×512 · 512×49", m: 2048, k: 512, n: 49),
    Shape(name: "vit qkv 1152×384 · 384×257", m: 1152, k: 384, n: 257),
    Shape(name: "vit proj 384×384 · 384×257", m: 384, k: 384, n: 257),
    Shape(name: "vit fc1 1536×384 · 384×257", m: 1536, k: 384, n: 257),
    Shape(name: "vit fc2 384×1536 · 1536×257", m: 384, k: 1536, n: 257),
    Shape(name: "vit448 fc1 1536×384 · 384×1025", m: 1536, k: 384, n: 1025),
    Shape(name: "vit448 fc2 384×1536 · 1536×1025", m: 384, k: 1536, n: 1025),
]

func measureConvolution(_ shape: Shape, threads: Int, packed: Bool) -> Double {
    ComputeThreads.set(threads)
    // Channels-last: C[pixels × out] = feature map [pixels × in·k²] · weights [in·k² × out].
    let features = [Float]((0..<(shape.n * shape.k)).map { Float($0 % 13) / 13 - 0.5 })
    let weights = [Float]((0..<(shape.k * shape.m)).map { Float($0 % 17) / 17 - 0.5 })
    let bias = [Float]((0..<shape.m).map { Float($0 % 5) / 5 })
    let packedWeights = PackedWeights(Tensor(shape: [shape.k, shape.m], scalars: weights))
    let rows = RowTable.contiguous(rows: shape.n, stride: shape.k)
    var c = [Float](repeating: 0, count: shape.m * shape.n)
    let seconds = medianSeconds(runs: 30) {
        features.withUnsafeBufferPointer { ap in
            weights.withUnsafeBufferPointer { bp in
                bias.withUnsafeBufferPointer { biasPointer in
                    c.withUnsafeMutableBufferPointer { cp in
                        let epilogue = GEMM.Epilogue(bias: .perColumn(biasPointer.baseAddress!), activation: .relu)
                        if packed {
                            PackedGEMM.multiply(packedWeights, a: ap.baseAddress!, rows: rows, c: cp.baseAddress!, epilogue: epilogue)
                        } else {
                            GEMM.multiply(m: shape.n, n: shape.m, k: shape.k, a: ap.baseAddress!, b: bp.baseAddress!,
                                          c: cp.baseAddress!, epilogue: epilogue)
                        }
                    }
                }
            }
        }
    }
    return 2 * Double(shape.m * shape.k * shape.n) / seconds / 1e9
}

print("\nconvolution products with bias and ReLU, GFLOP/s: BLAS sgemm / packed weights")
for shape in convolutionShapes {
    let text = [1, 2].map { threads in
        String(format: "%5.1f / %5.1f", measureConvolution(shape, threads: threads, packed: false),
               measureConvolution(shape, threads: threads, packed: true))
    }
    print("\(shape.name.padding(toLength: 30, withPad: " ", startingAt: 0))  1 thread: \(text[0])   2 threads: \(text[1])")
}
