import Foundation
import Synchronization

/// Persistent worker threads for `ComputeThreads.parallelFor`.
///
/// A forward pass hands out a hundred or more short parallel jobs (a split matrix product,
/// a LayerNorm, the heads of one attention block), each a fraction of a millisecond.
/// Dispatch's worker threads park between them and take about as long to wake as the job
/// takes (measured here: two workers no faster than one for 0.3 ms jobs). These workers
/// spin on a generation counter for a short while after each job, so the next one starts
/// at once, and sleep on a semaphore once the engine has gone quiet.
final class WorkerPool: @unchecked Sendable {
    /// How long an idle worker keeps polling before it sleeps.
    static let spinNanoseconds: UInt64 = 2_000_000

    /// The job in flight, packed so that one atomic load tells a worker everything:
    /// generation (high 32 bits), chunk count (16 bits), next unclaimed chunk (16 bits).
    private let state = Atomic<UInt64>(0)
    private let finishedChunks = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    private let growth = NSLock()
    private var workerCount = 0

    /// The job's body: written by the caller before it publishes the job (release) and read
    /// by a worker only after it has claimed one of the job's chunks, while the caller waits.
    nonisolated(unsafe) private var job: ((Int) -> Void)?

    /// Starts workers until there are `count`. Workers are never stopped; idle ones sleep.
    func ensureWorkers(_ count: Int) {
        growth.lock()
        defer { growth.unlock() }
        while workerCount < count {
            workerCount += 1
            let thread = Thread { [self] in workerLoop() }
            thread.name = "simpool-compute-\(workerCount)"
            thread.start()
        }
    }

    /// Runs `body` for every chunk index in `0..<chunks`, on the caller and the workers;
    /// returns when every chunk is done. Returns false, running nothing, when the pool is
    /// already busy (a nested call from inside a chunk, or a second thread): the caller then
    /// runs the loop itself.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        precondition(chunks > 0 && chunks < 0xFFFF)
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            finishedChunks.store(0, ordering: .relaxed)
            let generation = (state.load(ordering: .relaxed) >> 32) &+ 1
            state.store(generation << 32 | UInt64(chunks) << 16, ordering: .releasing)
            let sleeping = sleepers.load(ordering: .acquiring)
            for _ in 0..<min(sleeping, chunks - 1) { wake.signal() }
            claimChunks()
            var polls = 0
            while finishedChunks.load(ordering: .acquiring) < chunks {
                // A worker that lost its core (another process, or the exporter's writer
                // thread) gets it back sooner if this thread steps aside now and then.
                polls += 1
                if polls % 1024 == 0 { sched_yield() }
            }
            job = nil
        }
        return true
    }

    /// Takes chunks of the published job until none is left.
    private func claimChunks() {
        var value = state.load(ordering: .acquiring)
        while true {
            let index = Int(value & 0xFFFF), count = Int(value >> 16 & 0xFFFF)
            guard index < count else { return }
            let (exchanged, original) = state.compareExchange(expected: value, desired: value + 1,
                                                              ordering: .acquiringAndReleasing)
            guard exchanged else {
                value = original
                continue
            }
            job!(index)
            finishedChunks.add(1, ordering: .releasing)
            value = state.load(ordering: .acquiring)
        }
    }

    private func workerLoop() {
        var seen = state.load(ordering: .acquiring) >> 32
        var idleSince = DispatchTime.now().uptimeNanoseconds
        var polls = 0
        while true {
            let generation = state.load(ordering: .acquiring) >> 32
            if generation != seen {
                seen = generation
                claimChunks()
                idleSince = DispatchTime.now().uptimeNanoseconds
                continue
            }
            polls += 1
            guard polls % 256 == 0 else { continue }
            sched_yield()
            if DispatchTime.now().uptimeNanoseconds - idleSince < Self.spinNanoseconds { continue }
            // Announce the sleep, then look once more so a job published meanwhile is not missed.
            sleepers.add(1, ordering: .acquiringAndReleasing)
            if state.load(ordering: .acquiring) >> 32 == seen { wake.wait() }
            sleepers.subtract(1, ordering: .acquiringAndReleasing)
            idleSince = DispatchTime.now().uptimeNanoseconds
        }
    }
}
