import Backbones
import Checkpoints
import Dispatch
import Imaging
import Pooling

/// A checkpoint turned into a runnable backbone with its preprocessing.
public struct LoadedModel: Sendable {
    public let name: String
    public let path: String
    /// Elements in the checkpoint's tensors. The checkpoint itself is not kept: its weights
    /// now live in the backbone as Float32, and dropping it unmaps the file (the mapped
    /// float16 pages would otherwise stay resident, 44 MB for the default model).
    public let parameterCount: Int
    public let backbone: any Backbone
    public let preprocessor: Preprocessor
    /// Class names that came with the model (config.json id2label / label_names), if any.
    public let labels: [String]?
    /// What the pooling methods take from this model: its SimPool head (with γ from the
    /// training arguments) when it has one, and whether it is a transformer.
    public let poolingContext: MethodCatalog.Context

    /// `nameOrPath`: a bundled model name, a checkpoint file or a Hugging Face folder.
    /// `numHeads` overrides whatever the source says about the head count.
    public static func load(_ nameOrPath: String, resolution: Int = 224, numHeads: Int? = nil,
                            activation: VisionTransformer.FeedForward? = nil) throws -> LoadedModel {
        let path = try BundledModels.resolve(nameOrPath)
        let source = try ModelSource.open(path: path)
        let checkpoint = source.checkpoint
        let backbone = try ModelRuntimeLoading.backbone(source, numHeads: numHeads, activation: activation)
        let preprocessor = Preprocessor.forModel(backbone.summary, facts: source.facts, resolution: resolution)
        var context = MethodCatalog.Context(isTransformer: backbone.summary.family == .vit)
        context.attentionPoolWeights = try AttentionPoolHeadLoader.load(checkpoint, heads: backbone.summary.heads)
        if let head = try SimPoolHead.load(checkpoint) {
            context.simpoolWeights = head.weights
            context.checkpointGamma = head.gamma
        }
        return LoadedModel(name: nameOrPath, path: path, parameterCount: checkpoint.tensors.elementTotal,
                           backbone: backbone, preprocessor: preprocessor, labels: source.facts.labels?.value,
                           poolingContext: context)
    }

    /// Class names for this model's logits: its own, else ImageNet's for a 1000-class head.
    public func classNames(imagenet: ImageNetLabels?) -> ImageNetLabels? {
        if let labels { return ImageNetLabels(names: labels) }
        return backbone.summary.classCount == 1000 ? imagenet : nil
    }

    /// Decode, preprocess and run one image.
    public func run(imagePath: String) throws -> (trace: Trace, width: Int, height: Int) {
        let image = try ImageDecoder.decode(path: imagePath)
        let input = preprocessor.prepare(image)
        return (backbone.forward(pixels: input.pixels, height: input.height, width: input.width), input.width, input.height)
    }
}

/// Turns a source into a backbone, with every failure as one line naming the path.
public enum ModelRuntimeLoading {
    public static func backbone(_ source: ModelSource, numHeads: Int?,
                                activation: VisionTransformer.FeedForward? = nil) throws -> any Backbone {
        do {
            return try ModelLoader.load(LoadRequest(source: source, numHeads: numHeads, activation: activation))
        } catch let error as UnknownArchitecture {
            throw RuntimeError("\(source.path): \(error.description)")
        } catch let error as RefusedTensors {
            throw RuntimeError("\(source.path): \(error.description)")
        }
    }
}
