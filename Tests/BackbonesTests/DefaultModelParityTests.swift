import Backbones
import Checkpoints
import Foundation
import Imaging
import Testing
import TestSupport

/// The bundled DINOv2 ViT-S/14 (float16) against ONNX Runtime running the original float32
/// ONNX file on the same input (Tools/make_backbone_fixtures.py).
struct DefaultModelParityTests {
    static let modelPath = Fixtures.samplePath("models/dinov2-vits14.safetensors")

    @Test func everyBlocksAttentionMatchesONNXRuntime() throws {
        let model = try ModelLoader.load(try Checkpoint.open(path: Self.modelPath))
        #expect(model.summary.name == "ViT-S/14 (DINOv2 layout)")
        #expect(model.summary.heads == 6 && model.summary.layerCount == 12)
        #expect(model.summary.unusedNames.isEmpty)
        let reference = try Reference("dinov2_ort.reference.safetensors")
        let trace = model.forward(pixels: try reference.floats("input"), height: 224, width: 224)
        let rows = try reference.ints("attention_rows")
        let tokenRows = try reference.ints("token_rows")
        var worstAttention = 0.0, worstTokens = 0.0
        for (i, layer) in trace.layers.enumerated() {
            let attention = try #require(layer.attention)
            #expect(attention.shape == [6, 257, 257])
            var cls: [Float] = [], sampled: [Float] = [], tokens: [Float] = []
            for head in 0..<6 {
                cls += attention.scalars[(head * 257 * 257)..<(head * 257 * 257 + 257)]
            }
            for head in 0..<6 {
                for row in rows {
                    let start = (head * 257 + row) * 257
                    sampled += attention.scalars[start..<(start + 257)]
                }
            }
            for row in tokenRows { tokens += layer.tokens.scalars[(row * 384)..<((row + 1) * 384)] }
            let attentionError = max(maximumDifference(cls, try reference.floats("block\(i).attention_cls")),
                                     maximumDifference(sampled, try reference.floats("block\(i).attention_sampled")))
            worstAttention = max(worstAttention, attentionError)
            #expect(attentionError <= 2e-3, "block \(i): attention differs by \(attentionError)")
            let tokenError = relativeError(tokens, try reference.floats("block\(i).tokens_sampled"))
            worstTokens = max(worstTokens, tokenError)
            #expect(tokenError <= 1e-2, "block \(i): tokens differ by \(tokenError) relative")
        }
        let finalError = relativeError(trace.final.tokens.scalars, try reference.floats("final"))
        #expect(finalError <= 1e-2, "final tokens differ by \(finalError) relative")
        print("DINOv2 vs ONNX Runtime: attention max |Δ| \(worstAttention), tokens \(worstTokens) relative, final \(finalError)")
    }

    @Test func preprocessingReproducesTheReferenceInput() throws {
        // The reference input was made with PIL: bicubic resize to 224×224, ImageNet mean/std.
        let image = try ImageDecoder.decode(path: Fixtures.samplePath("images/chelsea.png")).rgb()
        let resized = Resampler.resize(image, width: 224, height: 224, filter: .bicubic)
        let input = Normalization.imagenet.chw(resized)
        let reference = try Reference("dinov2_ort.reference.safetensors")
        #expect(maximumDifference(input, try reference.floats("input")) <= 1e-5)
    }
}

/// EfficientNet-Lite0's real weights (fetched by Tools/fetch-downloads.sh): the same top-5
/// ImageNet classes as the PyTorch reference implementation on sample photos.
struct EfficientNetLiteTests {
    static let path = Fixtures.repositoryRoot.appendingPathComponent(".downloads/efficientnet-lite0.pth").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: path), "run Tools/fetch-downloads.sh"),
          arguments: ["cat.bmp", "bird.bmp", "hot_dog.jpg", "owl.jpg", "parrot.jpg", "sunflower.bmp", "chelsea.png", "rocket.jpg"])
    func topFiveClassesMatchPyTorch(photo: String) throws {
        let model = try ModelLoader.load(try Checkpoint.open(path: Self.path))
        #expect(model.summary.family == .efficientnetLite)
        let image = try ImageDecoder.decode(path: Fixtures.samplePath("images/" + photo)).rgb()
        let resized = Resampler.resize(image, width: 224, height: 224, filter: .bicubic)
        let input = Normalization(mean: [127 / 255, 127 / 255, 127 / 255], std: [128 / 255, 128 / 255, 128 / 255]).chw(resized)
        let logits = try #require(model.forward(pixels: input, height: 224, width: 224).logits)
        let top5 = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5)
        let reference = try Reference("efficientnet_lite0.reference.safetensors")
        #expect(Array(top5) == (try reference.ints(photo + ".top5")), "\(photo)")
        let want = try reference.floats(photo + ".top5_logits")
        // Logits agree closely; JPEG inputs may differ by a level between decoder builds.
        #expect(relativeError(top5.map { logits[$0] }, want) <= 1e-2)
    }
}
