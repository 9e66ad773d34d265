import Backbones
import Checkpoints
import Dispatch
import Imaging

/// A checkpoint turned into a runnable backbone with its preprocessing.
public struct LoadedModel: Sendable {
    public let name: String
    public let path: String
    public let checkpoint: Checkpoint
    public let backbone: any Backbone
    public let preprocessor: Preprocessor

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
        return LoadedModel(name: nameOrPath, path: path, checkpoint: checkpoint, backbone: backbone, preprocessor: preprocessor)
    }

    /// Decode, preprocess and run one image.
    public func run(imagePath: String) throws -> (trace: Trace, width: Int, height: Int) {
        let image = try ImageDecoder.decode(path: imagePath)
        let input = preprocessor.prepare(image)
        return (backbone.forward(pixels: input.pixels, height: input.height, width: input.width), input.width, input.height)
    }
}
