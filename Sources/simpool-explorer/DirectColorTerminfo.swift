import CNcurses
import Foundation

/// ncurses emits 24-bit colour only for a terminfo entry with direct colour (`RGB`,
/// `colors#0x1000000`), and stock Debian installs none, so `TERM=xterm-256color` with
/// `COLORTERM=truecolor`, what most people run, would get the 256-colour palette. For such
/// a terminal this compiles, once, an entry that is the user's own with direct-colour
/// `setaf` / `setab` added, into a cache folder of the user's
/// (`$XDG_CACHE_HOME/simpool-explorer/terminfo`, else `~/.cache/…`), with `tic` from
/// ncurses-bin (on every Debian system), and points ncurses at it. Nothing is written
/// anywhere else, and when anything fails the palette is used as before.
enum DirectColorTerminfo {
    /// The terminal name to open ncurses with, or nil to keep `$TERM` as it is.
    static func prepare(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let term = environment["TERM"], !term.isEmpty,
              term.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }),
              !hasDirectColor(term) else { return nil }
        guard let cache = cacheDirectory(environment) else { return nil }
        let name = term + "-direct24"
        let fileManager = FileManager.default
        let compiled = [cache + "/" + String(name.first!) + "/" + name,
                        cache + "/" + String(format: "%02x", name.utf8.first!) + "/" + name]
        if !compiled.contains(where: fileManager.fileExists) {
            guard (try? fileManager.createDirectory(atPath: cache, withIntermediateDirectories: true)) != nil else { return nil }
            let source = cache + "/\(name).src"
            guard (try? self.source(name: name, base: term).write(toFile: source, atomically: true, encoding: .utf8)) != nil else {
                return nil
            }
            defer { try? fileManager.removeItem(atPath: source) }
            let tic = Process()
            tic.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            tic.arguments = ["tic", "-x", "-o", cache, source]
            tic.standardOutput = FileHandle.nullDevice
            tic.standardError = FileHandle.nullDevice
            guard (try? tic.run()) != nil else { return nil }
            tic.waitUntilExit()
            guard tic.terminationStatus == 0, compiled.contains(where: fileManager.fileExists) else { return nil }
        }
        let existing = environment["TERMINFO_DIRS"] ?? ""
        // The empty entry after the colon keeps the system's own folders in the search.
        setenv("TERMINFO_DIRS", cache + ":" + existing, 1)
        return hasDirectColor(name) ? name : nil
    }

    /// The entry: direct-colour capabilities first (they win), then the user's terminal.
    /// Colours below 8 stay the ANSI ones, as in ncurses' own `*-direct` entries.
    static func source(name: String, base: String) -> String {
        let rgb = "%p1%{65536}%/%d;%p1%{256}%/%{255}%&%d;%p1%{255}%&%d"
        return """
        \(name)|\(base) with 24-bit colour,
        \tRGB, colors#0x1000000, pairs#0x10000,
        \tsetaf=\\E[%?%p1%{8}%<%t3%p1%d%e38;2;\(rgb)%;m,
        \tsetab=\\E[%?%p1%{8}%<%t4%p1%d%e48;2;\(rgb)%;m,
        \tuse=\(base),

        """
    }

    static func cacheDirectory(_ environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/simpool-explorer/terminfo" }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return home + "/.cache/simpool-explorer/terminfo"
    }

    /// True when the terminfo entry `name` has (at least) 2^24 colours.
    static func hasDirectColor(_ name: String) -> Bool {
        spx_terminfo_colors(name) >= 0x100_0000
    }
}
