import Backbones
import Checkpoints
import ModelRuntime
import Testing
import TestSupport

/// Checkpoints in the layouts researchers hold, each made by its own library (DINOv2's
/// `vision_transformer.py`, transformers' `save_pretrained`, timm's `save_for_hf`) with
/// random weights by Tools/make_layout_fixtures.py, against that library's own [CLS]
/// attention at every block, on a 224×224 photo and on a non-square one (positions
/// resampled as each library does it).
struct LayoutParityTests {
    static let layouts: [(source: String, reference: String)] = [
        ("dinov2_hub.pth", "dinov2_hub"), ("dinov2_hub_reg4.pth", "dinov2_hub_reg4"),
        ("dinov2_teacher.pth", "dinov2_teacher"), ("dinov2_swiglu.pth", "dinov2_swiglu"),
        ("hf_vit", "hf_vit"), ("hf_deit", "hf_deit"), ("hf_dinov2_reg", "hf_dinov2_reg"), ("timm_hub_vit", "timm_hub_vit"),
    ]

    static func load(_ source: String, numHeads: Int? = nil) throws -> (ModelSource, any Backbone) {
        let opened = try ModelSource.open(path: Fixtures.path("layouts/" + source))
        return (opened, try ModelLoader.load(LoadRequest(source: opened, numHeads: numHeads)))
    }

    /// The saved photo bytes `[H, W, 3]` as the model's `[3, H, W]` input.
    static func input(_ key: String, mean: [Float], std: [Float], folder: String = "layouts") throws -> (pixels: [Float], height: Int, width: Int) {
        let inputs = try Reference("inputs.safetensors", folder: folder)
        let shape = try inputs.shape(key), bytes = try inputs.floats(key)
        let (height, width) = (shape[0], shape[1])
        var pixels = [Float](repeating: 0, count: 3 * height * width)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    pixels[(c * height + y) * width + x] = (bytes[(y * width + x) * 3 + c] / 255 - mean[c]) / std[c]
                }
            }
        }
        return (pixels, height, width)
    }

    static func numbers(_ text: String?) -> [Float] {
        (text ?? "").split(separator: ",").compactMap { Float($0) }
    }

    @Test(arguments: layouts.map(\.source))
    func everyBlocksClassAttentionMatchesItsLibrary(source: String) throws {
        let name = Self.layouts.first { $0.source == source }!.reference
        let (opened, model) = try Self.load(source)
        let reference = try Reference(name + ".reference.safetensors", folder: "layouts")
        let metadata = reference.checkpoint.metadata
        let mean = Self.numbers(metadata["mean"]), std = Self.numbers(metadata["std"])
        // The loader's own preprocessing must use the library's statistics.
        let preprocessor = Preprocessor.forModel(model.summary, facts: opened.facts, resolution: 224)
        for c in 0..<3 {
            #expect(abs(preprocessor.normalization.mean[c] - mean[c]) < 1e-6, "\(name) mean")
            #expect(abs(preprocessor.normalization.std[c] - std[c]) < 1e-6, "\(name) std")
        }
        #expect(model.summary.heads == Int(metadata["heads"] ?? ""), "\(name) heads")
        #expect(!model.summary.headsGuessed, "\(name): \(model.summary.evidence)")
        for tag in ["square", "wide"] {
            let input = try Self.input(try #require(metadata["input_" + tag]), mean: mean, std: std)
            let trace = model.forward(pixels: input.pixels, height: input.height, width: input.width)
            #expect(trace.final.prefixTokens == Int(metadata["prefix_tokens"] ?? ""), "\(name) prefix tokens")
            try reference.expectClassRows(of: trace, tag: tag, label: name)
            #expect(trace.layers.count == reference.checkpoint.names.filter { $0.hasPrefix(tag + ".block") }.count)
            if reference.checkpoint["\(tag).logits"] != nil {
                let error = relativeError(try #require(trace.logits), try reference.floats("\(tag).logits"))
                #expect(error <= 1e-4, "\(name) \(tag) logits: \(error)")
            }
        }
    }

    @Test func dinov2HubFilesSayHowTheirHubResamples() throws {
        let plain = try Self.load("dinov2_hub.pth").1.summary
        #expect(plain.familyName.hasPrefix("DINOv2"))
        #expect(plain.evidence.contains { $0.contains("interpolate_offset=0.1, no antialias") }, "\(plain.evidence)")
        let registers = try Self.load("dinov2_hub_reg4.pth").1.summary
        #expect(registers.evidence.contains { $0.contains("interpolate_antialias=True, interpolate_offset=0") })
        #expect(registers.evidence.contains { $0.contains("4 extra prefix tokens") && $0.contains("register_tokens") })
        #expect(registers.unusedNames == ["mask_token"])
    }

    @Test func theTeachersChunkedBlocksAreRead() throws {
        let (opened, model) = try Self.load("dinov2_teacher.pth")
        #expect(opened.checkpoint.weightsEntry == "teacher")
        #expect(model.summary.stripPrefix == "backbone.")
        #expect(model.summary.name.contains("DINOv2 training layout"))
        // The training head and mask token change no map: listed, not read.
        #expect(model.summary.unusedNames.contains("backbone.mask_token"))
        #expect(model.summary.unusedNames.contains { $0.hasPrefix("dino_head.") })
    }

    @Test func transformersFoldersTakeTheirFactsFromTheirConfig() throws {
        let (vitSource, vit) = try Self.load("hf_vit")
        #expect(vit.summary.heads == 3)
        #expect(vit.summary.evidence.contains("heads 3 (config.json num_attention_heads)"))
        #expect(vit.summary.evidence.contains("LayerNorm eps 1e-12 (config.json layer_norm_eps)"))
        #expect(vitSource.facts.labels?.value == ["apple", "banana", "cherry", "date", "elderberry"])
        let (registersSource, registers) = try Self.load("hf_dinov2_reg")
        #expect(registers.summary.heads == 4, "width 128 / 64 would say 2")
        #expect(registersSource.files.contains { $0.hasSuffix("model.safetensors.index.json") })
        #expect(registersSource.files.filter { $0.hasSuffix(".safetensors") }.count >= 2, "sharded")
        // The weights file named inside the folder finds its config too.
        let (_, direct) = try Self.load("timm_hub_vit/model.safetensors")
        #expect(direct.summary.evidence.contains { $0.contains("config.json architecture 'vit_tiny_patch16_224'") })
    }

    @Test func numHeadsOverridesTheConfig() throws {
        let model = try Self.load("hf_vit", numHeads: 1).1
        #expect(model.summary.heads == 1)
        #expect(model.summary.evidence.contains("heads 1 (--num-heads)"))
        #expect(throws: UnknownArchitecture.self) { try Self.load("hf_vit", numHeads: 5) }
    }

    @Test func qkNormIsRefusedByName() throws {
        do {
            _ = try Self.load("timm_qknorm.safetensors")
            Issue.record("a qk-norm ViT ran without its norms")
        } catch let error as RefusedTensors {
            #expect(error.description.contains("qk-norm"))
            #expect(error.description.contains("blocks.0.attn.q_norm.weight"))
            #expect(!error.description.contains("\n"))
        }
    }
}
