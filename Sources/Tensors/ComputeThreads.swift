import CBLAS
import Synchronization

/// How many cores the engine uses, for BLAS and for its own elementwise loops.
///
/// One setting for both so that `bench --threads N` measures what a user with N cores gets.
/// Until `set` is called the engine runs on one thread.
public enum ComputeThreads {
    private static let setting = Atomic<Int>(1)
    private static var current: Int { setting.load(ordering: .relaxed) }

    /// The number of threads in use.
    public static var count: Int { current }

    /// Sets the thread count (clamped to at least 1) for the parallel loops and the split
    /// matrix products. BLAS itself always runs single-threaded (see `GEMM.multiply`).
    public static func set(_ threads: Int) {
        pool.ensureWorkers(max(1, threads) - 1)
        setting.store(max(1, threads), ordering: .relaxed)
        #if !canImport(Accelerate)
        openblas_set_num_threads(1)
        #endif
    }

    /// Runs `body` over `0..<iterations`, split in contiguous chunks across the threads.
    /// Small jobs run inline: a dispatch costs more than a few thousand flops.
    ///
    /// With `chunksPerThread` above 1 the range is cut finer and the threads take chunks as
    /// they finish: on a shared machine one core is often slowed for a while (another
    /// process, the hypervisor), and with one chunk each the other thread then waits (a
    /// ResNet-50 forward pass on two threads beside a busy process: 85 ms, 82 ms so).
    public static func parallelFor(_ iterations: Int, minimumPerThread: Int = 1, chunksPerThread: Int = 1,
                                   _ body: (Range<Int>) -> Void) {
        let workers = min(current, max(1, iterations / max(1, minimumPerThread)))
        if workers <= 1 {
            if iterations > 0 { body(0..<iterations) }
            return
        }
        let chunks = min(iterations / max(1, minimumPerThread), workers * max(1, chunksPerThread))
        let chunk = (iterations + chunks - 1) / chunks
        let count = (iterations + chunk - 1) / chunk
        withoutActuallyEscaping(body) { body in
            let runChunk = { (index: Int) in
                let start = index * chunk
                let end = min(iterations, start + chunk)
                if start < end { body(start..<end) }
            }
            // Each chunk touches its own range only; callers own the memory they pass in.
            if !pool.run(chunks: count, runChunk) {
                for index in 0..<count { runChunk(index) }
            }
        }
    }

    private static let pool = WorkerPool()
}
