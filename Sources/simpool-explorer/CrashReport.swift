import Foundation

/// A crash is a bug, but a user should see one line, not a runtime backtrace: the signal,
/// the command line (which names the file being read) and how to get the backtrace for a
/// report. The explorer's driver restores the terminal first (its own handlers run the
/// same report after `endwin`). `SIMPOOL_EXPLORER_BACKTRACE=1` leaves the runtime's
/// backtrace in place.
enum CrashReport {
    /// The line, composed before any crash: a signal handler may only write it.
    nonisolated(unsafe) static var line: [UInt8] = []

    static func install(arguments: [String] = CommandLine.arguments,
                        environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard environment["SIMPOOL_EXPLORER_BACKTRACE"] != "1" else { return }
        let command = arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        line = Array(("simpool-explorer: internal error while running `\(command)`; "
            + "please report it with the output of the same command run with SIMPOOL_EXPLORER_BACKTRACE=1\n").utf8)
        for fatal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
            signal(fatal) { number in
                CrashReport.write()
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    /// Writes the line to standard error (async-signal-safe: one write of prepared bytes).
    static func write() {
        line.withUnsafeBytes { _ = Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
