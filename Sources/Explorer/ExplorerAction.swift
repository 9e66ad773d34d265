/// Keys as the driver reports them.
public enum Key: Equatable, Sendable {
    case left, right, up, down, tab, backTab, escape, enter, backspace
    case character(Character)
}

/// Mouse events as the driver reports them, in cells from the top-left.
public enum MouseEvent: Equatable, Sendable {
    case click(column: Int, row: Int)
    case wheelUp, wheelDown
}

/// Everything that can happen to the explorer.
public enum ExplorerAction: Sendable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(columns: Int, rows: Int)
    /// A forward pass finished (or failed) for image `index`.
    case loaded(index: Int, result: ImageResult)
    case failed(index: Int, message: String)
    /// Time passes (the spinner turns).
    case tick
    /// A line for the status bar (e.g. where an export went).
    case message(String)
    /// The driver has taken the pending export requests.
    case exportsTaken
}
