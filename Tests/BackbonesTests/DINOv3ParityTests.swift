import Backbones
import Checkpoints
import ModelRuntime
import Testing
import TestSupport

/// DINOv3 made with its own code (Tools/make_dinov3_fixtures.py): rotary embedding,
/// storage tokens, the masked key bias, LayerScale, SwiGLU; and transformers' DINOv3ViT.
/// Every block's [CLS] attention within 1e-4 on a 224×224 photo, a 224×320 one and a
/// 208×272 one, which is no multiple of the 14×14 training grid (rotary embeddings need
/// no position table).
struct DINOv3ParityTests {
    @Test(arguments: ["dinov3_hub.pth", "dinov3_hub_swiglu.pth", "hf_dinov3"])
    func everyBlocksClassAttentionMatchesDINOv3(source: String) throws {
        let opened = try ModelSource.open(path: Fixtures.path("dinov3/" + source))
        let model = try ModelLoader.load(LoadRequest(source: opened))
        let stem = source.hasSuffix(".pth") ? String(source.dropLast(4)) : source
        let reference = try Reference(stem + ".reference.safetensors", folder: "dinov3")
        let metadata = reference.checkpoint.metadata
        let mean = LayoutParityTests.numbers(metadata["mean"]), std = LayoutParityTests.numbers(metadata["std"])
        #expect(model.summary.familyName.hasPrefix("DINOv3"))
        #expect(model.summary.heads == 2 && !model.summary.headsGuessed)
        #expect(model.summary.unusedNames.allSatisfy { $0.hasSuffix("mask_token") }, "\(model.summary.unusedNames)")
        for (tag, folder) in [("square", "layouts"), ("wide", "layouts"), ("odd", "dinov3")] {
            let input = try LayoutParityTests.input(try #require(metadata["input_" + tag]), mean: mean, std: std, folder: folder)
            let trace = model.forward(pixels: input.pixels, height: input.height, width: input.width)
            #expect(trace.final.prefixTokens == 5)
            try reference.expectClassRows(of: trace, tag: tag, label: source)
        }
    }
}
