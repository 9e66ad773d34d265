import ArgumentParser

/// The root command. Subcommands are added as they become real.
public struct SimpoolExplorer: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "simpool-explorer",
        abstract: "Explore the attention maps of vision models in the terminal.",
        version: version,
        subcommands: [BrowseCommand.self, RenderCommand.self, ExportCommand.self, EvalCommand.self, InspectCommand.self, PoolCommand.self, MethodsCommand.self, ModelsCommand.self, BenchCommand.self],
        defaultSubcommand: BrowseCommand.self
    )

    public init() {}
}
