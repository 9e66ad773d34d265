#if canImport(Glibc)
import Glibc
#endif

/// Keeps the forward pass's large activations on the heap between passes.
///
/// glibc serves blocks above its mmap threshold with fresh mappings and returns them on
/// free, so each forward pass page-faulted and zeroed its activations anew (measured: 5% of
/// a ViT-S forward in `clear_page` and fault handling). With a 32 MB threshold (glibc's
/// maximum) the blocks come from the heap instead, and with a 512 MB trim threshold the
/// heap keeps them for the next pass: at 448×448 a ViT-S pass keeps 300 MB of attention
/// matrices, and with the old 64 MB threshold most of them were returned and faulted in
/// again every pass (one thread: 958 → 764 ms; two threads: 605 → 406–470 ms). The peak
/// is unchanged; what a process holds between passes is at most that much more.
public enum AllocatorTuning {
    public static func keepLargeBlocks() {
        #if canImport(Glibc)
        // `mallopt` lives in <malloc.h>, which the Glibc module does not export; its option
        // numbers are fixed by the glibc ABI.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 512 << 20)
        #endif
    }
}
