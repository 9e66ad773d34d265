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
    /// What the pooling methods take from this model: its SimPool head (with γ from the
    /// training arguments) when it has one, and whether it is a transformer.
    public let poolingContext: MethodCatalog.Context

    /// `nameOrPath`: a bundled model name or a checkpoint file.
    public static func load(_ nameOrPath: String, resolution: Int = 224) throws -> LoadedModel {
        let path = try BundledModels.resolve(nameOrPath)
        let checkpoint = try Checkpoint.open(path: path)
        let backbone: any Backbone
        do {
            backbone = try ModelLoader.load(checkpoint)
        } catch let error as UnknownArchitecture {
            throw RuntimeError("\(path): \(error.description)")
        }
        let preprocessor = Preprocessor.forModel(backbone.summary, metadata: checkpoint.metadata, resolution: resolution)
        var context = MethodCatalog.Context(isTransformer: backbone.summary.family == .vit)
        if let head = try SimPoolHead.load(checkpoint) {
            context.simpoolWeights = head.weights
            context.checkpointGamma = head.gamma
        }
        return LoadedModel(name: nameOrPath, path: path, parameterCount: checkpoint.tensors.reduce(0) { $0 + $1.elementCount },
                           backbone: backbone,
                           preprocessor: preprocessor, poolingContext: context)
    }

    /// Decode, preprocess and run one image.
    public func run(imagePath: String) throws -> (trace: Trace, width: Int, height: Int) {
        let image = try ImageDecoder.decode(path: imagePath)
        let input = preprocessor.prepare(image)
        return (backbone.forward(pixels: input.pixels, height: input.height, width: input.width), input.width, input.height)
    }
}
