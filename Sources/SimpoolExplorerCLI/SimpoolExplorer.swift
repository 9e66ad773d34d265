import ArgumentParser

public struct SimpoolExplorer: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "simpool-explorer",
        abstract: "Explore the attention maps of vision models in the terminal.")
    public init() {}
}
