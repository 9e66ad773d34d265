import Foundation

/// For benchmarks and tests: with `SIMPOOL_EXPLORER_PEAK_MEMORY_FILE` set, the process
/// writes its peak resident memory (kB, the kernel's VmHWM) to that file when it ends.
///
/// A parent cannot measure this itself: `wait4`'s `ru_maxrss` counts the parent's own
/// memory at the fork, so a Python benchmark that has loaded PyTorch sees 600 MB for
/// `/bin/true`. VmHWM belongs to the address space that `exec` created.
public enum PeakMemoryReport {
    static let variable = "SIMPOOL_EXPLORER_PEAK_MEMORY_FILE"

    /// Registers the report for a normal exit (including `exit()` from an error path).
    public static func installIfRequested() {
        guard ProcessInfo.processInfo.environment[variable] != nil else { return }
        atexit { PeakMemoryReport.write() }
    }

    /// Writes the report now: for exits that skip `atexit` handlers (`_exit`).
    public static func write() {
        guard let target = ProcessInfo.processInfo.environment[variable],
              let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return }
        let kilobytes = line.split(separator: " ").dropFirst().first.map(String.init) ?? "0"
        try? (kilobytes + "\n").write(toFile: target, atomically: false, encoding: .utf8)
    }
}
