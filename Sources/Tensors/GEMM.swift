import CBLAS

/// Matrix products through BLAS `sgemm`; the only place the engine multiplies matrices.
public enum GEMM {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major.
    /// `op(A)` is m×k (A stored k×m when `transposeA`), `op(B)` is k×n (B stored n×k when `transposeB`).
    /// Leading dimensions default to packed storage; pass them to address a block of
    /// columns inside a wider matrix (one attention head inside the fused qkv output).
    ///
    /// With several compute threads a large product is split into blocks of C's columns (or
    /// rows, when C is tall and narrow), one single-threaded BLAS call per thread. BLAS's own
    /// thread pool stays at one thread: its idle workers spin and yield, and on a two-core
    /// machine they took the cores from the engine's own parallel loops (measured: 10% of a
    /// ViT forward pass in the scheduler). `parallel: false` keeps a product on the calling
    /// thread, for callers that already run one product per thread.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, transposeA: Bool = false, lda: Int? = nil,
        b: UnsafePointer<Float>, transposeB: Bool = false, ldb: Int? = nil,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        alpha: Float = 1, beta: Float = 0, parallel: Bool = true,
        epilogue: Epilogue = .none
    ) {
        guard m > 0, n > 0 else { return }
        if case .none = epilogue.bias, epilogue.residual == nil {} else {
            precondition(beta == 0, "an epilogue with a bias or residual replaces C's previous content (beta must be 0)")
        }
        let lda = max(1, lda ?? (transposeA ? m : k))
        let ldb = max(1, ldb ?? (transposeB ? k : n))
        let ldc = max(1, ldc ?? n)
        let threads = parallel ? ComputeThreads.count : 1
        let splitColumns = n >= m
        let side = splitColumns ? n : m
        let blocks = min(threads, side / minimumBlock)
        guard blocks > 1, 2 * Double(m) * Double(n) * Double(k) >= minimumParallelFlops else {
            block(rows: 0..<m, columns: 0..<n, k, a, transposeA, lda, b, transposeB, ldb, c, ldc, alpha, beta, epilogue)
            return
        }
        // Block edges on multiples of 16 keep every block on BLAS's full-width kernels.
        let step = (side + blocks - 1) / blocks
        let aligned = (step + 15) / 16 * 16
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        ComputeThreads.parallelFor(blocks) { range in
            for index in range {
                let start = index * aligned
                let end = min(side, start + aligned)
                guard start < end else { continue }
                if splitColumns {
                    block(rows: 0..<m, columns: start..<end, k, a, transposeA, lda, b, transposeB, ldb, c, ldc, alpha, beta, epilogue)
                } else {
                    block(rows: start..<end, columns: 0..<n, k, a, transposeA, lda, b, transposeB, ldb, c, ldc, alpha, beta, epilogue)
                }
            }
        }
    }

    /// Work done on each block of C by the thread that computed it, while it is in cache:
    /// C starts as `residual + bias` (instead of zero) and the activation follows the product.
    public struct Epilogue {
        public enum Bias {
            case none
            /// One value per column of C, broadcast over rows (a linear layer's bias).
            case perColumn(UnsafePointer<Float>)
            /// One value per row of C (a convolution's bias, C being channels × pixels).
            case perRow(UnsafePointer<Float>)
        }

        public enum Activation {
            case none, relu, relu6, gelu

            /// The activation on eight values, for kernels that finish outputs in registers.
            @inlinable @inline(__always)
            public func apply(_ x: VectorMath.Lanes) -> VectorMath.Lanes {
                switch self {
                case .none: x
                case .relu: x.replacing(with: 0, where: x .< 0)
                case .relu6: x.clamped(lowerBound: VectorMath.Lanes(repeating: 0), upperBound: VectorMath.Lanes(repeating: 6))
                case .gelu: VectorMath.gelu(x)
                }
            }

            /// None, ReLU and ReLU6 as a clamp to [lower, upper], for kernels that apply
            /// them to every block with two instructions and no branch; nil for GELU.
            @inlinable
            public var clampBounds: (lower: Float, upper: Float)? {
                switch self {
                case .none: (-.infinity, .infinity)
                case .relu: (0, .infinity)
                case .relu6: (0, 6)
                case .gelu: nil
                }
            }
        }

        public var bias: Bias
        /// Added to the product; laid out like C (with C's leading dimension).
        public var residual: UnsafePointer<Float>?
        public var activation: Activation

        public init(bias: Bias = .none, residual: UnsafePointer<Float>? = nil, activation: Activation = .none) {
            self.bias = bias
            self.residual = residual
            self.activation = activation
        }

        public static var none: Epilogue { Epilogue() }
    }

    /// One block of C: rows × columns of the full product, with its epilogue.
    private static func block(rows: Range<Int>, columns: Range<Int>, _ k: Int,
                              _ a: UnsafePointer<Float>, _ transposeA: Bool, _ lda: Int,
                              _ b: UnsafePointer<Float>, _ transposeB: Bool, _ ldb: Int,
                              _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ beta: Float,
                              _ epilogue: Epilogue) {
        let aBlock = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
        let bBlock = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
        let offset = rows.lowerBound * ldc + columns.lowerBound
        let cBlock = c + offset
        let width = columns.count
        var beta = beta
        let residual = epilogue.residual.map { $0 + offset }
        switch epilogue.bias {
        case .none:
            if let residual {
                for r in 0..<rows.count { (cBlock + r * ldc).update(from: residual + r * ldc, count: width) }
                beta = 1
            }
        case .perColumn(let bias):
            for r in 0..<rows.count {
                let row = cBlock + r * ldc
                row.update(from: bias + columns.lowerBound, count: width)
                if let residual { VectorMath.add(UnsafeMutableBufferPointer(start: row, count: width), residual + r * ldc) }
            }
            beta = 1
        case .perRow(let bias):
            for r in 0..<rows.count {
                let row = cBlock + r * ldc
                row.update(repeating: bias[rows.lowerBound + r], count: width)
                if let residual { VectorMath.add(UnsafeMutableBufferPointer(start: row, count: width), residual + r * ldc) }
            }
            beta = 1
        }
        sgemm(rows.count, width, k, aBlock, transposeA, lda, bBlock, transposeB, ldb, cBlock, ldc, alpha, beta)
        guard epilogue.activation != .none else { return }
        for r in 0..<rows.count {
            let row = UnsafeMutableBufferPointer(start: cBlock + r * ldc, count: width)
            switch epilogue.activation {
            case .none: break
            case .relu: VectorMath.relu(row)
            case .relu6: VectorMath.relu6(row)
            case .gelu: VectorMath.gelu(row, parallel: false)
            }
        }
    }

    /// Below this many flops a product runs on one thread: the split costs more than it saves.
    static let minimumParallelFlops = 2.0e6
    /// The narrowest block of columns (or rows) worth a thread of its own.
    static let minimumBlock = 32

    private static func sgemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ transposeA: Bool, _ lda: Int,
                              _ b: UnsafePointer<Float>, _ transposeB: Bool, _ ldb: Int,
                              _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ beta: Float) {
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}

extension GEMM {
    /// y = alpha · op(A) · x + beta · y for a row-major m×n A (op(A) = Aᵀ when `transpose`).
    /// Matrix–vector products go to `sgemv`, which reads A in place where `sgemm` would
    /// first pack it.
    public static func multiplyVector(
        m: Int, n: Int, a: UnsafePointer<Float>, lda: Int? = nil, transpose: Bool = false,
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha,
                    a, Int32(lda ?? n), x, 1, beta, y, 1)
    }
}

extension Tensor {
    /// Matrix product `self · other` of rank-2 tensors.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[1] == other.shape[0],
                     "matmul shapes \(shape) and \(other.shape) do not chain")
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        var result = k == 0 ? Tensor(zeros: [m, n]) : Tensor(uninitialized: [m, n])
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.scalars.withUnsafeMutableBufferPointer { c in
                    GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, b: b.baseAddress!,
                                  c: c.baseAddress!)
                }
            }
        }
        return result
    }

    /// `self · weightᵀ + bias`: a linear layer with PyTorch's `[out, in]` weight layout,
    /// optionally followed by the exact GELU (fused into the product's blocks).
    public func linear(weight: Tensor, bias: Tensor? = nil, gelu: Bool = false) -> Tensor {
        precondition(rank == 2 && weight.rank == 2 && shape[1] == weight.shape[1],
                     "linear: input \(shape) does not fit weight \(weight.shape)")
        let (m, k, n) = (shape[0], shape[1], weight.shape[0])
        if let bias { precondition(bias.count == n, "linear: bias has \(bias.count) values, expected \(n)") }
        var result = k == 0 ? Tensor(zeros: [m, n]) : Tensor(uninitialized: [m, n])
        guard k > 0 else {
            if let bias { for row in 0..<m { result.scalars.replaceSubrange((row * n)..<((row + 1) * n), with: bias.scalars) } }
            if gelu { result.scalars.withUnsafeMutableBufferPointer { VectorMath.gelu($0) } }
            return result
        }
        scalars.withUnsafeBufferPointer { a in
            weight.scalars.withUnsafeBufferPointer { b in
                result.scalars.withUnsafeMutableBufferPointer { c in
                    let (a, b, c) = (a.baseAddress!, b.baseAddress!, c.baseAddress!)
                    if let bias {
                        bias.scalars.withUnsafeBufferPointer {
                            let epilogue = GEMM.Epilogue(bias: .perColumn($0.baseAddress!), activation: gelu ? .gelu : .none)
                            GEMM.multiply(m: m, n: n, k: k, a: a, b: b, transposeB: true, c: c, epilogue: epilogue)
                        }
                    } else {
                        GEMM.multiply(m: m, n: n, k: k, a: a, b: b, transposeB: true, c: c, epilogue: GEMM.Epilogue(activation: gelu ? .gelu : .none))
                    }
                }
            }
        }
        return result
    }
}
