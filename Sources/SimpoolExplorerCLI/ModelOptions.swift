import ArgumentParser
import ModelRuntime

/// `--model` and `--num-heads`, shared by every command that runs a model.
struct ModelOptions: ParsableArguments {
    @Option(help: "A bundled model name, a checkpoint file, or a Hugging Face folder (config.json beside the weights).")
    var model = BundledModels.defaultName

    @Option(name: .customLong("num-heads"),
            help: "Attention heads of a ViT, when the checkpoint does not say (it wins over what the file says).")
    var numHeads: Int?

    @Option(help: "gelu or quick-gelu: the feed-forward's activation of a CLIP file that does not say (OpenAI's use QuickGELU).")
    var activation: Activation?

    enum Activation: String, ExpressibleByArgument {
        case gelu, quickGELU = "quick-gelu"
    }

    func validate() throws {
        if let numHeads, numHeads < 1 { throw ValidationError("--num-heads must be a positive number") }
    }

    /// Loads the model; a failure is written as its one line and ends the command with status 1.
    func load(resolution: Int) throws -> LoadedModel {
        do {
            return try LoadedModel.load(model, resolution: resolution, numHeads: numHeads,
                                        activation: activation.map { $0 == .gelu ? .gelu : .quickGELU })
        } catch {
            StandardError.write(String(describing: error))
            throw ExitCode(ExitStatus.inputFailed)
        }
    }
}
