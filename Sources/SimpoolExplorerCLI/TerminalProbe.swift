import Foundation
import TerminalCanvas

/// Asks the terminal which graphics protocol it speaks (`TerminalReplies.probe`), on the
/// controlling terminal only, within 250 ms. The terminal is put in raw mode without echo
/// for the exchange and restored; every reply byte up to the end of the DA1 answer is
/// read, and on a timeout what arrived is discarded, so no stray bytes reach the input.
enum TerminalProbe {
    static let budgetMilliseconds = 250

    static func ask() -> PixelProtocol? {
        exchange(TerminalReplies.probe).flatMap(TerminalReplies.pixelProtocol)
    }

    /// A cell's size in pixels, asked where `TIOCGWINSZ` does not say it.
    static func cellSize() -> (width: Int, height: Int)? {
        exchange(TerminalReplies.cellSizeProbe).flatMap(TerminalReplies.cellSize)
    }

    /// What tmux says of the client this pane is shown in: its terminal's terminfo name and
    /// whether passthrough is allowed. Nil when tmux cannot be asked within a second.
    static func tmux() -> (clientTerminal: String, passthrough: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tmux", "display-message", "-p", "#{client_termname}\t#{allow-passthrough}"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        guard (try? process.run()) != nil else { return nil }
        if finished.wait(timeout: .now() + 1) == .timedOut {
            process.terminate()
            return nil
        }
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let fields = text.trimmingCharacters(in: .newlines).split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count == 2 else { return nil }
        return (String(fields[0]), String(fields[1]))
    }

    /// Writes `query` to the controlling terminal and returns what it answered up to the
    /// end of its DA1 reply, or nil when it did not answer in time.
    private static func exchange(_ query: String) -> [UInt8]? {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return nil }
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        defer { tcsetattr(fd, TCSANOW, &saved) }
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else { return nil }
        let probe = Array(query.utf8)
        guard write(fd, probe, probe.count) == probe.count else { return nil }
        var reply: [UInt8] = []
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(budgetMilliseconds) * 1_000_000
        var buffer = [UInt8](repeating: 0, count: 256)
        while !TerminalReplies.isComplete(reply) {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { break }
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            reply += buffer[0..<count]
        }
        guard TerminalReplies.isComplete(reply) else {
            tcflush(fd, TCIFLUSH)
            return nil
        }
        return reply
    }
}
