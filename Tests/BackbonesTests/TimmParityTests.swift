import Backbones
import Testing
import TestSupport

/// Random-initialised timm models against timm's own outputs: every block's tokens and
/// attention probabilities, the final features and the logits, within 1e-4 relative.
struct TimmParityTests {
    @Test(arguments: ["vit_cls", "vit_reg", "vit_resample"])
    func visionTransformerMatchesTimm(name: String) throws {
        try Self.checkVisionTransformer(name)
    }

    @Test(arguments: ["resnet18", "resnet50_layout"])
    func resnetMatchesTimm(name: String) throws {
        try Self.checkResNet(name)
    }

    static func checkVisionTransformer(_ name: String) throws {
        let model = try loadModel(name + ".safetensors")
        let reference = try Reference(name + ".reference.safetensors")
        let shape = try reference.shape("input")
        let trace = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2])
        #expect(model.summary.unusedNames.isEmpty, "unused: \(model.summary.unusedNames)")
        for (i, layer) in trace.layers.enumerated() {
            let tokens = relativeError(layer.tokens.scalars, try reference.floats("block\(i).tokens"))
            #expect(tokens <= 1e-4, "\(name) block \(i) tokens: \(tokens)")
            let attention = try #require(layer.attention)
            #expect(attention.shape == Array(try reference.shape("block\(i).attention")))
            let error = maximumDifference(attention.scalars, try reference.floats("block\(i).attention"))
            #expect(error <= 1e-5, "\(name) block \(i) attention: \(error)")
        }
        #expect(relativeError(trace.final.tokens.scalars, try reference.floats("final")) <= 1e-4)
        let logits = try reference.floats("logits")
        if try reference.shape("logits") != [try reference.shape("final").last!] || name != "vit_resample" {
            let got = try #require(trace.logits)
            #expect(relativeError(got, logits) <= 1e-4, "\(name) logits")
        }
    }

    static func checkResNet(_ name: String) throws {
        let model = try loadModel(name + ".pth")
        let reference = try Reference(name + ".reference.safetensors")
        let shape = try reference.shape("input")
        let trace = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2])
        #expect(trace.layers.count == 4)
        for (i, layer) in trace.layers.enumerated() {
            #expect(layer.tokens.shape == (try reference.shape("stage\(i)")))
            let error = relativeError(layer.tokens.scalars, try reference.floats("stage\(i)"))
            #expect(error <= 1e-4, "\(name) stage \(i): \(error)")
        }
        #expect(relativeError(try #require(trace.logits), try reference.floats("logits")) <= 1e-4)
    }
}
