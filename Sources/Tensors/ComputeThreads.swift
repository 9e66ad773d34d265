import CBLAS
import Dispatch

/// How many cores the engine uses, for BLAS and for its own elementwise loops.
///
/// One setting for both so that `bench --threads N` measures what a user with N cores gets.
public enum ComputeThreads {
    nonisolated(unsafe) private static var current = 1

    /// The number of threads in use.
    public static var count: Int { current }

    /// Sets the thread count (clamped to at least 1) for BLAS and the parallel loops.
    public static func set(_ threads: Int) {
        current = max(1, threads)
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(current))
        #endif
    }

    /// Runs `body` over `0..<iterations`, split in contiguous chunks across the threads.
    /// Small jobs run inline: a dispatch costs more than a few thousand flops.
    public static func parallelFor(_ iterations: Int, minimumPerThread: Int = 1,
                                   _ body: (Range<Int>) -> Void) {
        let workers = min(current, max(1, iterations / max(1, minimumPerThread)))
        if workers <= 1 {
            if iterations > 0 { body(0..<iterations) }
            return
        }
        let chunk = (iterations + workers - 1) / workers
        // Each worker touches its own range only; callers own the memory they pass in.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = worker * chunk
            let end = min(iterations, start + chunk)
            if start < end { body(start..<end) }
        }
    }
}
