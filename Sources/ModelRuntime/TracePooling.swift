import Backbones
import Pooling

extension PoolingInput {
    /// The pooling input for block (or stage) `layer` of a trace, 0-based. The last layer
    /// is taken after the model's final normalisation, as pooling heads see it.
    public init(trace: Trace, layer: Int, head: HeadSelection = .mean, isTransformer: Bool) {
        precondition(layer >= 0 && layer < trace.layers.count, "layer \(layer + 1) of \(trace.layers.count)")
        let chosen = layer == trace.layers.count - 1 ? trace.final : trace.layers[layer]
        let attentions = trace.layers[0...layer].compactMap(\.attention)
        self.init(features: chosen.patchTokens, gridHeight: chosen.gridHeight, gridWidth: chosen.gridWidth,
                  attention: trace.layers[layer].attention,
                  classAttention: trace.layers[layer].classAttention,
                  attentionStack: attentions.count == layer + 1 ? attentions : [],
                  rolloutRow: trace.rolloutRows.flatMap { $0.count > layer ? $0[layer] : nil },
                  prefixTokens: chosen.prefixTokens,
                  classToken: trace.hasClassToken ? Array(chosen.tokens.scalars[0..<chosen.tokens.shape[1]]) : nil,
                  head: head, isTransformer: isTransformer)
    }
}
