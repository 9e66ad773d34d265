import Backbones
import ModelRuntime
import Pooling
import Testing
import TestSupport

/// A patch query's map is its token's row of the attention matrix: here against the rows
/// timm itself computed (the vit_cls fixture), for the trace as the forward pass leaves it
/// and for a compacted one, which computes the block again from its input.
struct PatchQueryParityTests {
    @Test(arguments: [0, 1], [HeadSelection.mean, .index(2), .max])
    func queryMapIsTheTokensAttentionRowFromTimm(block: Int, head: HeadSelection) throws {
        let model = try loadModel("vit_cls.safetensors")
        let reference = try Reference("vit_cls.reference.safetensors")
        let shape = try reference.shape("input")
        let full = model.forward(pixels: try reference.floats("input"), height: shape[1], width: shape[2])
        let attention = try reference.floats("block\(block).attention")
        let attentionShape = try reference.shape("block\(block).attention")
        let (heads, tokens) = (attentionShape[0], attentionShape[1])
        let patch = 7, token = 1 + patch
        // timm's row over the patches, fused by hand, renormalised once.
        var expected = [Double](repeating: 0, count: tokens - 1)
        for j in 1..<tokens {
            let values = (0..<heads).map { Double(attention[($0 * tokens + token) * tokens + j]) }
            switch head {
            case .mean: expected[j - 1] = values.reduce(0, +) / Double(heads)
            case .max: expected[j - 1] = values.max()!
            case .min: expected[j - 1] = values.min()!
            case .index(let h): expected[j - 1] = values[h]
            }
        }
        let total = expected.reduce(0, +)
        for trace in [full, full.compacted()] {
            let input = PoolingInput(trace: trace, layer: block, head: head, isTransformer: true, queryPatch: patch)
            let map = try PatchQueryAttention().pool(input).map
            #expect(map.count == tokens - 1)
            let error = zip(map, expected).map { abs(Double($0) - $1 / total) }.max()!
            #expect(error <= 1e-5, "block \(block) head \(head): \(error)")
        }
    }
}
