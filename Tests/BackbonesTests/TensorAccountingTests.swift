@testable import Backbones
import Checkpoints
import Testing
import TestSupport

/// The rule every family goes through, on a hand-built file: each unread tensor is either
/// known to change nothing (listed) or refused with what it would have changed.
struct TensorAccountingTests {
    /// A safetensors checkpoint whose tensors are `names`, one float each.
    static func checkpoint(_ names: [String]) throws -> Checkpoint {
        let entries = names.enumerated().map { i, name in
            #""\#(name)":{"dtype":"F32","shape":[1],"data_offsets":[\#(4 * i),\#(4 * i + 4)]}"#
        }
        let bytes = HandBuiltFiles.safetensors("{" + entries.joined(separator: ",") + "}",
                                               data: [UInt8](repeating: 0, count: 4 * names.count))
        return try Checkpoint.open(path: try Fixtures.writeTemporary(bytes, name: "weights.safetensors"))
    }

    static func refusal(_ unread: [String], depth: Int = 2) throws -> RefusedTensors? {
        let source = WeightSource(checkpoint: try checkpoint(["backbone.read"] + unread.map { "backbone." + $0 } + ["dino_head.w"]),
                                  prefix: "backbone.")
        _ = try source.tensor("read")
        do {
            _ = try TensorAccounting.check(source, depth: depth, family: "test")
            return nil
        } catch let error as RefusedTensors {
            return error
        }
    }

    @Test func harmlessTensorsAreListedNotRefused() throws {
        let source = WeightSource(checkpoint: try Self.checkpoint(
            ["backbone.read", "backbone.mask_token", "backbone.bn.num_batches_tracked", "backbone.pooler.dense.weight",
             "backbone.gp.pool.wq.weight", "dino_head.w"]), prefix: "backbone.")
        _ = try source.tensor("read")
        let listed = try TensorAccounting.check(source, depth: 2, family: "test")
        // The SimPool head is read by the pooling methods, so it is not listed.
        #expect(listed == ["backbone.mask_token", "backbone.bn.num_batches_tracked", "backbone.pooler.dense.weight", "dino_head.w"])
    }

    @Test(arguments: [
        ("blocks.0.attn.q_norm.weight", "qk-norm"), ("register_tokens", "register tokens"),
        ("storage_tokens", "storage tokens"), ("blocks.0.mlp.w12.weight", "a SwiGLU feed-forward"),
        ("blocks.0.attn.relative_position_bias_table", "a relative position bias"),
        ("blocks.2.norm1.weight", "a block beyond the 2 the model has"), ("rope_embed.periods", "rotary position embedding"),
        ("blocks.0.attn.qkv.bias_mask", "a masked qkv bias"), ("something.new", "of unknown purpose"),
    ])
    func computationChangingTensorsAreRefused(name: String, meaning: String) throws {
        let error = try #require(try Self.refusal([name]))
        #expect(error.tensors.map(\.name) == ["backbone." + name])
        #expect(error.description.contains("(\(meaning)): backbone.\(name)"), "\(error.description)")
    }
}
