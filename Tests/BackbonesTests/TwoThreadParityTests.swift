import Backbones
import Tensors
import Testing
import TestSupport

/// The same timm references as `TimmParityTests`, with the engine on two threads: split
/// products, fused epilogues, heads in parallel and im2col rows spread over the workers.
@Suite(.serialized)
struct TwoThreadParityTests {
    init() { ComputeThreads.set(2) }

    @Test(arguments: ["vit_cls", "vit_reg"])
    func visionTransformerMatchesTimm(name: String) throws {
        let model = try loadModel(name + ".safetensors")
        let reference = try Reference(name + ".reference.safetensors")
        let shape = try reference.shape("input")
        let trace = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2])
        for (i, layer) in trace.layers.enumerated() {
            #expect(relativeError(layer.tokens.scalars, try reference.floats("block\(i).tokens")) <= 1e-4)
            let error = maximumDifference(try #require(layer.attention).scalars, try reference.floats("block\(i).attention"))
            #expect(error <= 1e-5, "\(name) block \(i) attention: \(error)")
        }
    }

    @Test(arguments: ["resnet18", "resnet50_layout"])
    func resnetMatchesTimm(name: String) throws {
        let model = try loadModel(name + ".pth")
        let reference = try Reference(name + ".reference.safetensors")
        let shape = try reference.shape("input")
        let trace = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2])
        for (i, layer) in trace.layers.enumerated() {
            let error = relativeError(layer.tokens.scalars, try reference.floats("stage\(i)"))
            #expect(error <= 1e-4, "\(name) stage \(i): \(error)")
        }
        #expect(relativeError(try #require(trace.logits), try reference.floats("logits")) <= 1e-4)
    }
}
