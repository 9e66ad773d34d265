import Backbones
import ModelRuntime
import Pooling
import Testing
import TestSupport

/// The explorer keeps compacted traces ([CLS] rows only, rollout rows precomputed with the
/// forward pass); every method must give the same maps from them as from the full trace.
struct CompactTraceTests {
    @Test(arguments: ["vit_cls"])
    func compactedTracesGiveTheSameMaps(name: String) throws {
        let model = try loadModel(name + ".safetensors")
        let reference = try Reference(name + ".reference.safetensors")
        let shape = try reference.shape("input")
        let full = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2])
        let compact = full.compacted()
        #expect(compact.layers.allSatisfy { $0.attention == nil && $0.classAttention != nil })
        let heads = try #require(model.summary.heads)
        for layer in full.layers.indices {
            for head in [HeadSelection.mean] + (0..<heads).map(HeadSelection.index) {
                let a = try CLSPooling().pool(PoolingInput(trace: full, layer: layer, head: head, isTransformer: true))
                let b = try CLSPooling().pool(PoolingInput(trace: compact, layer: layer, head: head, isTransformer: true))
                #expect(a.map == b.map && a.pooled == b.pooled)
            }
            // Rollout: the rows computed with the forward pass against the product of the
            // stored attention (the path the NumPy reference checks).
            var fromStack = PoolingInput(trace: full, layer: layer, isTransformer: true)
            fromStack.rolloutRow = nil
            let expected = try RolloutPooling().pool(fromStack)
            let got = try RolloutPooling().pool(PoolingInput(trace: compact, layer: layer, isTransformer: true))
            #expect(maximumDifference(got.map, expected.map) <= 1e-6, "\(name) layer \(layer)")
        }
    }
}
