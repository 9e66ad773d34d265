import Backbones
import ModelRuntime
import Pooling
import Testing
import TestSupport

/// A forward pass that keeps no attention matrix (what large inputs get) against PyTorch's
/// tokens and attention, and against the pass that keeps them: the same tokens and [CLS]
/// rows, and rollout's rows (from [CLS] and from a patch) computed again block by block.
struct StreamedAttentionTests {
    @Test func streamedPassMatchesPyTorchAndTheKeptPass() throws {
        let model = try #require(try loadModel("vit_cls.safetensors") as? VisionTransformer)
        let reference = try Reference("vit_cls.reference.safetensors")
        let shape = try reference.shape("input")
        let pixels = try reference.floats("input")
        let kept = model.forward(pixels: pixels, height: shape[1], width: shape[2], attention: .kept)
        let streamed = model.forward(pixels: pixels, height: shape[1], width: shape[2], attention: .streamed)
        #expect(!streamed.keepsAttention && streamed.rolloutRows == nil && kept.keepsAttention)

        for layer in streamed.layers.indices {
            let torchTokens = try reference.floats("block\(layer).tokens")
            #expect(relativeError(streamed.layers[layer].tokens.scalars, torchTokens) <= 1e-4, "block \(layer) tokens")
            #expect(maximumDifference(streamed.layers[layer].tokens.scalars, kept.layers[layer].tokens.scalars) <= 1e-5)
            // [CLS] rows of every head against PyTorch's attention [heads, T, T].
            let attention = try reference.floats("block\(layer).attention")
            let tokens = streamed.layers[layer].tokens.shape[0]
            let heads = attention.count / (tokens * tokens)
            var torchRows: [Float] = []
            for h in 0..<heads { torchRows += attention[(h * tokens * tokens)..<(h * tokens * tokens + tokens)] }
            let rows = try #require(streamed.layers[layer].classAttention)
            #expect(maximumDifference(rows.scalars, torchRows) <= 1e-6, "block \(layer) [CLS] rows")

            // Rollout from [CLS], recomputed, against the rows of the pass that kept its matrices.
            let recomputed = try #require(streamed.rolloutRow(layer))
            #expect(maximumDifference(recomputed, kept.rolloutRows![layer]) <= 1e-6, "rollout through block \(layer)")
            // And from a patch, against the kept pass's product of transition matrices.
            let patch = 7
            let fromPatch = try RolloutPooling().pool(PoolingInput(trace: streamed, layer: layer, isTransformer: true,
                                                                   queryPatch: patch, rollout: RolloutPooling()))
            let expected = try RolloutPooling().pool(PoolingInput(trace: kept, layer: layer, isTransformer: true,
                                                                  queryPatch: patch, rollout: RolloutPooling()))
            #expect(maximumDifference(fromPatch.map, expected.map) <= 1e-6, "rollout from patch \(patch), block \(layer)")
        }
        #expect(relativeError(streamed.final.tokens.scalars, try reference.floats("final")) <= 1e-4)
        #expect(relativeError(streamed.logits ?? [], try reference.floats("logits")) <= 1e-4)
        // Every method gives the kept pass's map from the streamed trace.
        let last = streamed.layers.count - 1
        for method in [CLSPooling() as any PoolingMethod, RolloutPooling()] {
            let a = try method.pool(PoolingInput(trace: kept, layer: last, isTransformer: true))
            let b = try method.pool(PoolingInput(trace: streamed, layer: last, isTransformer: true))
            #expect(maximumDifference(a.map, b.map) <= 1e-6, "\(method.specification)")
        }
    }

    /// Rollout's other options need whole fused matrices: on a streamed trace small enough
    /// to form them, they are formed again from the kept block inputs, and agree.
    @Test func rolloutOptionsOnAStreamedTraceAreComputedAgain() throws {
        let model = try #require(try loadModel("vit_cls.safetensors") as? VisionTransformer)
        let reference = try Reference("vit_cls.reference.safetensors")
        let shape = try reference.shape("input")
        let streamed = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2], attention: .streamed)
        let options = RolloutPooling(discard: 0.5, fusion: .max)
        let kept = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2], attention: .kept)
        let a = try options.pool(PoolingInput(trace: streamed, layer: 1, isTransformer: true, rollout: options))
        let b = try options.pool(PoolingInput(trace: kept, layer: 1, isTransformer: true, rollout: options))
        #expect(maximumDifference(a.map, b.map) <= 1e-6)
    }
}
