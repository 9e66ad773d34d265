import Backbones
import Checkpoints
import ModelRuntime
import Pooling
import Testing
import TestSupport

/// More backbone families, each made with random weights by its own library
/// (Tools/make_family_fixtures.py: open_clip, transformers, timm, torchvision), against
/// that library's outputs on a 224×224 and a 224×320 photo.
struct FamilyParityTests {
    static func load(_ source: String) throws -> (ModelSource, any Backbone, Reference) {
        let opened = try ModelSource.open(path: Fixtures.path("families/" + source))
        let name = source.split(separator: "/").first.map { String($0).replacingOccurrences(of: ".safetensors", with: "") } ?? source
        let stem = name.hasSuffix(".bin") || name.hasSuffix(".pt") || name.hasSuffix(".pth")
            ? String(name[..<name.lastIndex(of: ".")!]) : name
        return (opened, try ModelLoader.load(LoadRequest(source: opened)), try Reference(stem + ".reference.safetensors", folder: "families"))
    }

    static func statistics(_ reference: Reference) -> (mean: [Float], std: [Float]) {
        (LayoutParityTests.numbers(reference.checkpoint.metadata["mean"]), LayoutParityTests.numbers(reference.checkpoint.metadata["std"]))
    }

    static func expectStatistics(_ model: any Backbone, _ source: ModelSource, _ reference: Reference) {
        let (mean, std) = statistics(reference)
        let used = Preprocessor.forModel(model.summary, facts: source.facts, resolution: 224).normalization
        for c in 0..<3 { #expect(abs(used.mean[c] - mean[c]) < 1e-6 && abs(used.std[c] - std[c]) < 1e-6, "\(model.summary.name) statistics") }
    }

    @Test(arguments: ["openclip_vit", "openai_clip_quickgelu.pt", "hf_clip_vision"])
    func clipTowersMatchTheirLibraries(source: String) throws {
        let (opened, model, reference) = try Self.load(source)
        #expect(model.summary.familyName.hasPrefix("CLIP"))
        Self.expectStatistics(model, opened, reference)
        #expect(model.summary.heads == 2)
        let (mean, std) = Self.statistics(reference)
        for tag in ["square", "wide"] {
            let input = try LayoutParityTests.input(try #require(reference.checkpoint.metadata["input_" + tag]), mean: mean, std: std)
            let trace = model.forward(pixels: input.pixels, height: input.height, width: input.width)
            #expect(trace.layers.count == 2)
            try reference.expectClassRows(of: trace, tag: tag, label: source)
        }
    }

    @Test func quickGELUComesFromTheConfigOrOpenAIsRule() throws {
        #expect(try Self.load("openclip_vit").1.summary.evidence.contains("activation GELU (open_clip_config.json model_cfg quick_gelu)"))
        #expect(try Self.load("openai_clip_quickgelu.pt").1.summary.evidence.contains {
            $0.hasPrefix("activation QuickGELU (an OpenAI file")
        })
        #expect(try Self.load("hf_clip_vision").1.summary.evidence.contains("activation QuickGELU (config.json hidden_act)"))
        // --activation wins; the maps then differ from OpenAI's.
        let opened = try ModelSource.open(path: Fixtures.path("families/openai_clip_quickgelu.pt"))
        let overridden = try ModelLoader.load(LoadRequest(source: opened, activation: .gelu))
        #expect(overridden.summary.evidence.contains("activation GELU (--activation)"))
    }

    @Test func siglipsAttentionPoolHeadMatchesTimm() throws {
        let (opened, model, reference) = try Self.load("timm_siglip_map")
        Self.expectStatistics(model, opened, reference)
        let head = try #require(try AttentionPoolHeadLoader.load(opened.checkpoint, heads: model.summary.heads))
        let (mean, std) = Self.statistics(reference)
        for tag in ["square", "wide"] {
            let input = try LayoutParityTests.input(try #require(reference.checkpoint.metadata["input_" + tag]), mean: mean, std: std)
            let trace = model.forward(pixels: input.pixels, height: input.height, width: input.width)
            for (i, layer) in trace.layers.enumerated() {
                let attention = try #require(layer.attention)
                let (heads, tokens) = (attention.shape[0], attention.shape[1])
                var rows: [Float] = []
                for h in 0..<heads { rows += attention.scalars[(h * tokens * tokens)..<(h * tokens * tokens + tokens)] }
                let error = maximumDifference(rows, try reference.floats("\(tag).block\(i).row0"))
                #expect(error <= 1e-4, "\(tag) block \(i): \(error)")
            }
            let pooling = PoolingInput(trace: trace, layer: trace.layers.count - 1, isTransformer: true)
            let want = try reference.floats("\(tag).attn_pool.attention")
            let patches = pooling.tokenCount
            for h in 0..<2 {
                let result = try AttentionPoolHead(weights: head).pool({ var p = pooling; p.head = .index(h); return p }())
                let error = maximumDifference(result.map, Array(want[(h * patches)..<((h + 1) * patches)]))
                #expect(error <= 1e-5, "\(tag) attnpool head \(h + 1): \(error)")
                let pooledError = relativeError(result.pooled, try reference.floats("\(tag).attn_pool.pooled"))
                #expect(pooledError <= 1e-4, "\(tag) attnpool vector: \(pooledError)")
            }
        }
        // No [CLS]: cls and rollout say they do not apply; attnpool is the learned query.
        #expect(model.summary.hasClassToken == false)
    }

    @Test(arguments: ["timm_convnext.safetensors", "torchvision_convnext.pth"])
    func convnextStagesAndHOWMapsMatchTheirLibraries(source: String) throws {
        let (_, model, reference) = try Self.load(source)
        #expect(model.summary.family == .convnext && model.summary.layerCount == 4)
        #expect(model.summary.unusedNames.isEmpty, "\(model.summary.unusedNames)")
        let (mean, std) = Self.statistics(reference)
        for tag in ["square", "wide"] {
            let input = try LayoutParityTests.input(try #require(reference.checkpoint.metadata["input_" + tag]), mean: mean, std: std)
            let trace = model.forward(pixels: input.pixels, height: input.height, width: input.width)
            for (i, layer) in trace.layers.enumerated() {
                let want = try reference.floats("\(tag).stage\(i)")
                #expect(layer.tokens.shape == (try reference.shape("\(tag).stage\(i)")))
                #expect(relativeError(layer.tokens.scalars, want) <= 1e-4, "\(source) \(tag) stage \(i)")
                // HOW's map (L2 norms) of this stage, against the library's own features.
                let ours = try HOWPooling().pool(PoolingInput(features: layer.tokens, gridHeight: layer.gridHeight, gridWidth: layer.gridWidth)).map
                let theirs = try HOWPooling().pool(PoolingInput(features: .init(shape: layer.tokens.shape, scalars: want),
                                                                gridHeight: layer.gridHeight, gridWidth: layer.gridWidth)).map
                #expect(relativeError(ours, theirs) <= 1e-4, "\(source) \(tag) stage \(i) how map")
            }
            #expect(relativeError(try #require(trace.logits), try reference.floats("\(tag).logits")) <= 1e-4, "\(source) logits")
        }
    }
}
