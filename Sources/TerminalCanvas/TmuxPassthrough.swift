/// tmux's passthrough: a sequence tmux would otherwise keep to itself, sent on to the
/// outer terminal as `ESC P tmux; … ESC \` with every ESC inside doubled. tmux passes it
/// only where its `allow-passthrough` option is on.
public enum TmuxPassthrough {
    public static func wrap(_ sequence: String) -> String {
        "\u{1B}Ptmux;" + sequence.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}") + "\u{1B}\\"
    }

    /// What tmux says of itself (`display-message -p '#{client_termname}\t#{allow-passthrough}'`):
    /// kitty's pictures can reach the terminal of the client when that terminal is kitty
    /// or Ghostty (their terminfo names) and passthrough is allowed (tmux 3.3 writes the
    /// flag as 1, 3.4 may say `all`).
    public static func passesKitty(clientTerminal: String, passthrough: String) -> Bool {
        let terminal = clientTerminal.lowercased()
        return allowsPassthrough(passthrough) && (terminal.contains("kitty") || terminal.contains("ghostty"))
    }

    /// Whether passthrough is allowed at all, from the same answer.
    public static func allowsPassthrough(_ passthrough: String) -> Bool {
        !["", "0", "off"].contains(passthrough.lowercased())
    }
}
