import Pooling
import Tensors
import Testing

/// The [CLS] map's "mean" over heads is `attn[:, 0, prefix:].mean(0)` renormalised once:
/// worked by hand on two heads, one of which gives most of its attention to [CLS].
struct HeadFusionTests {
    /// Two heads, tokens [CLS, p0, p1, p2]. Head 0 looks at [CLS] with 0.7 and gives the
    /// patches 0.2, 0.1, 0.0; head 1 gives [CLS] nothing and the patches 0.1, 0.3, 0.6.
    /// Mean of raw rows over the patches: 0.15, 0.2, 0.3 (sum 0.65), so the map is
    /// 3/13, 4/13, 6/13. Renormalising each head first would give 0.4167, 0.3167, 0.2667.
    static let rows: [Float] = [0.7, 0.2, 0.1, 0.0,
                                0.0, 0.1, 0.3, 0.6]

    static func input(head: HeadSelection) -> PoolingInput {
        PoolingInput(features: Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1]), gridHeight: 1, gridWidth: 3,
                     classAttention: Tensor(shape: [2, 4], scalars: rows), prefixTokens: 1, classToken: [0.5, 0.5],
                     head: head)
    }

    @Test func meanAveragesRawRowsThenRenormalisesOnce() throws {
        let map = try CLSPooling().pool(Self.input(head: .mean)).map
        let expected: [Float] = [3.0 / 13, 4.0 / 13, 6.0 / 13]
        for (got, want) in zip(map, expected) { #expect(abs(got - want) < 1e-6, "\(map)") }
    }

    @Test func aSingleHeadIsRenormalisedOverThePatches() throws {
        let first = try CLSPooling().pool(Self.input(head: .index(0))).map
        for (got, want) in zip(first, [2.0 / 3, 1.0 / 3, 0] as [Float]) { #expect(abs(got - want) < 1e-6, "\(first)") }
        let second = try CLSPooling().pool(Self.input(head: .index(1))).map
        for (got, want) in zip(second, [0.1, 0.3, 0.6] as [Float]) { #expect(abs(got - want) < 1e-6, "\(second)") }
    }
}
