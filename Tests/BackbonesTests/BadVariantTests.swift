import Backbones
import Checkpoints
import Foundation
import Testing
import TestSupport

/// Each family's broken variants, made from its real fixture by dropping a tensor,
/// changing a shape or adding one: one clear line each, never a model that runs as
/// something else.
struct BadVariantTests {
    /// The fixture's tensors as float32, written again as safetensors after `edit`.
    static func variant(_ fixture: String, _ edit: (inout [(name: String, shape: [Int], values: [Float])]) -> Void) throws -> String {
        let checkpoint = try Checkpoint.open(path: Fixtures.path(fixture))
        var tensors: [(name: String, shape: [Int], values: [Float])] = checkpoint.tensors.filter(\.dtype.isFloatingPoint)
            .map { (name: $0.name, shape: $0.shape, values: $0.floats()) }
        edit(&tensors)
        var entries: [String] = []
        var data: [UInt8] = []
        for tensor in tensors {
            let start = data.count
            for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
            entries.append(#""\#(tensor.name)":{"dtype":"F32","shape":\#(tensor.shape),"data_offsets":[\#(start),\#(data.count)]}"#)
        }
        return try Fixtures.writeTemporary(HandBuiltFiles.safetensors("{" + entries.joined(separator: ",") + "}", data: data),
                                           name: "variant.safetensors")
    }

    static func failure(_ path: String) throws -> String {
        do {
            _ = try ModelLoader.load(try Checkpoint.open(path: path))
        } catch let error as UnknownArchitecture {
            return error.description
        } catch let error as RefusedTensors {
            return error.description
        }
        Issue.record("a broken variant loaded")
        return ""
    }

    @Test(arguments: [
        ("dinov3/dinov3_hub.pth", "blocks.0.attn.proj.weight", "blocks.1.norm1.weight"),
        ("families/openai_clip_quickgelu.pt", "visual.transformer.resblocks.1.mlp.c_fc.weight", "visual.ln_pre.weight"),
        ("families/timm_convnext.safetensors", "stages.2.blocks.1.mlp.fc2.weight", "stages.1.blocks.0.norm.weight"),
    ])
    func missingWrongAndExtraTensorsAreOneLineEach(fixture: String, dropped: String, reshaped: String) throws {
        let missing = try Self.failure(try Self.variant(fixture) { $0.removeAll { $0.name == dropped } })
        #expect(missing.contains("missing tensor") && missing.contains(dropped), "\(missing)")
        let wrong = try Self.failure(try Self.variant(fixture) { tensors in
            let i = tensors.firstIndex { $0.name == reshaped }!
            tensors[i].shape = [tensors[i].values.count - 1]
            tensors[i].values.removeLast()
        })
        #expect(wrong.contains(reshaped) && wrong.contains("shape"), "\(wrong)")
        let extra = try Self.failure(try Self.variant(fixture) { tensors in
            let prefix = dropped.hasPrefix("visual.") ? "visual." : ""
            tensors.append((prefix + "blocks.0.attn.q_norm.weight", [4], [1, 1, 1, 1]))
            tensors.append((prefix + "extra.gadget", [2], [0, 0]))
        })
        #expect(extra.hasPrefix("refused: 2 tensors") && extra.contains("qk-norm") && extra.contains("of unknown purpose"), "\(extra)")
        for line in [missing, wrong, extra] { #expect(!line.contains("\n")) }
    }
}
