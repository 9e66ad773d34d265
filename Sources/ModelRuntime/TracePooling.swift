import Backbones
import Pooling

extension PoolingInput {
    /// The pooling input for block (or stage) `layer` of a trace, 0-based. The last layer
    /// is taken after the model's final normalisation, as pooling heads see it.
    ///
    /// `queryPatch` (patch-query mode) brings that patch's token's attention rows at this
    /// block; `rollout` with options other than the defaults, or with a query, brings its
    /// transition matrices of every block up to this one. Both are computed from the trace
    /// when it no longer holds the full attention (see `Trace.blockAttention`).
    public init(trace: Trace, layer: Int, head: HeadSelection = .mean, isTransformer: Bool,
                queryPatch: Int? = nil, rollout: RolloutPooling? = nil) {
        precondition(layer >= 0 && layer < trace.layers.count, "layer \(layer + 1) of \(trace.layers.count)")
        let chosen = layer == trace.layers.count - 1 ? trace.final : trace.layers[layer]
        let attentions = trace.layers[0...layer].compactMap(\.attention)
        let start = queryPatch.map { chosen.prefixTokens + $0 } ?? 0
        // Rollout's row from its start token, when rollout's default options ask for it:
        // kept from the forward pass for [CLS], computed again for a pass that kept no
        // attention. A query on a kept trace reads the transition matrices below.
        let rolloutRow = start == 0 ? trace.rolloutRows.flatMap { $0.count > layer ? $0[layer] : nil } : nil
        self.init(features: chosen.patchTokens, gridHeight: chosen.gridHeight, gridWidth: chosen.gridWidth,
                  attention: trace.layers[layer].attention,
                  classAttention: trace.layers[layer].classAttention,
                  attentionStack: attentions.count == layer + 1 ? attentions : [],
                  rolloutRow: rolloutRow,
                  prefixTokens: chosen.prefixTokens,
                  classToken: trace.hasClassToken ? Array(chosen.tokens.scalars[0..<chosen.tokens.shape[1]]) : nil,
                  head: head, isTransformer: isTransformer)
        if rolloutRow == nil, !trace.keepsAttention, rollout?.usesPrecomputedRow ?? true {
            rolloutRowSource = { trace.rolloutRow(layer, from: start) }
        }
        if let queryPatch {
            self.queryPatch = queryPatch
            // Rollout from the query reads its row or its transition matrices, not these.
            if rollout == nil { queryAttention = trace.queryRows(layer, token: start) }
        }
        // Rollout's other options need every block's fused T×T matrix; past the size a
        // forward pass keeps, they are not formed (the method then says so).
        let tokens = chosen.tokens.shape[0]
        let affordable = tokens * tokens * 4 * trace.layers.count <= VisionTransformer.keptAttentionBudget
        if let rollout, !rollout.usesPrecomputedRow || (queryPatch != nil && trace.keepsAttention),
           trace.hasBlockAttention, trace.keepsAttention || affordable {
            let all = trace.memo.value(key: "rollout \(rollout.parameterText)", bytes: { $0.reduce(0) { $0 + $1.count * 4 } }) {
                trace.layers.indices.map { rollout.transitionMatrix(trace.blockAttention($0)!) }
            }
            rolloutTransitions = Array(all[0...layer])
        }
    }
}
