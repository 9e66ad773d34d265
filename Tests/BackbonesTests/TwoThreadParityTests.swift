import Tensors
import Testing

/// The same timm references as `TimmParityTests`, with the engine on two threads: split
/// products, fused epilogues, heads in parallel and im2col rows spread over the workers.
@Suite(.serialized)
struct TwoThreadParityTests {
    init() { ComputeThreads.set(2) }

    @Test(arguments: ["vit_cls", "vit_reg", "vit_resample"])
    func visionTransformerMatchesTimm(name: String) throws {
        try TimmParityTests.checkVisionTransformer(name)
    }

    @Test(arguments: ["resnet18", "resnet50_layout"])
    func resnetMatchesTimm(name: String) throws {
        try TimmParityTests.checkResNet(name)
    }
}
