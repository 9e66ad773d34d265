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

func measure(_ shape: Shape, threads: Int) -> (milliseconds: Double, gflops: Double) {
    ComputeThreads.set(threads)
    let a = [Float]((0..<(shape.m * shape.k)).map { Float($0 % 17) / 17 })
    let b = [Float]((0..<(shape.k * shape.n)).map { Float($0 % 13) / 13 })
    var c = [Float](repeating: 0, count: shape.m * shape.n)
    var samples: [Double] = []
    for run in 0..<60 {
        let start = DispatchTime.now().uptimeNanoseconds
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    GEMM.multiply(m: shape.m, n: shape.n, k: shape.k, a: ap.baseAddress!,
                                  b: bp.baseAddress!, transposeB: false, c: cp.baseAddress!)
                }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if run >= 10 { samples.append(elapsed) }   // the first runs warm caches and threads
    }
    let seconds = median(samples)
    return (seconds * 1e3, 2 * Double(shape.m * shape.k * shape.n) / seconds / 1e9)
}

print("sgemm (BLAS), median of 50 runs after 10 warm-up runs")
for shape in shapes {
    let one = measure(shape, threads: 1)
    let two = measure(shape, threads: 2)
    print("\(shape.name)   1 thread: \(String(format: "%6.3f", one.milliseconds)) ms \(String(format: "%6.1f", one.gflops)) GFLOP/s"
        + "   2 threads: \(String(format: "%6.3f", two.milliseconds)) ms \(String(format: "%6.1f", two.gflops)) GFLOP/s")
}
