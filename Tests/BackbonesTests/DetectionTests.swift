import Backbones
import Checkpoints
import Testing
import TestSupport

/// Architecture detection from names and shapes, for each layout users bring.
struct DetectionTests {
    @Test(arguments: [
        ("vit_cls.safetensors", "ViT-48-wide/8 (timm/DeiT layout)", 2, 3),
        ("vit_reg.safetensors", "ViT-32-wide/14 (DINOv2 layout with registers)", 3, 2),
        ("dino_teacher.pth", "ViT-48-wide/8 (timm/DeiT layout)", 2, 3),
        ("simpool_vit.pth.tar", "ViT-48-wide/8 (SimPool layout, no [CLS])", 1, 3),
        ("resnet18.pth", "ResNet-18", 4, 0),
        ("resnet50_layout.pth", "ResNet-50", 4, 0),
    ])
    func layoutIsNamed(file: String, name: String, layers: Int, heads: Int) throws {
        let summary = try loadModel(file).summary
        #expect(summary.name == name)
        #expect(summary.layerCount == layers)
        #expect((summary.heads ?? 0) == heads)
        #expect(summary.unusedNames.isEmpty, "\(summary.unusedNames)")
    }

    @Test func dinoTeacherIsPickedAndItsPrefixStripped() throws {
        let checkpoint = try Checkpoint.open(path: Fixtures.path("backbones/dino_teacher.pth"))
        #expect(checkpoint.weightsEntry == "teacher")
        let model = try ModelLoader.load(checkpoint)
        #expect(model.summary.stripPrefix == "backbone.")
        #expect(model.summary.evidence.contains { $0.contains("vit_tiny") }, "heads come from args.arch")
        // Same weights as vit_cls (without its head): same blocks as timm computed.
        let reference = try Reference("vit_cls.reference.safetensors")
        let trace = model.forward(pixels: try reference.floats("input"), height: 32, width: 48)
        #expect(relativeError(trace.layers[1].tokens.scalars, try reference.floats("block1.tokens")) <= 1e-4)
        #expect(trace.logits == nil)
    }

    @Test func simpoolViTHasNoClassTokenAndAHead() throws {
        let model = try loadModel("simpool_vit.pth.tar")
        #expect(model.summary.hasSimPoolHead)
        #expect(model.summary.evidence.contains("position table 196 rows: 14×14 grid (names)"))
        let trace = model.forward(pixels: [Float](repeating: 0.1, count: 3 * 112 * 112), height: 112, width: 112)
        #expect(trace.final.prefixTokens == 0)
        #expect(trace.final.tokens.shape == [196, 48])
    }

    @Test func efficientNetAndDefaultModelAreNamed() throws {
        let model = try ModelLoader.load(try Checkpoint.open(path: Fixtures.samplePath("models/dinov2-vits14.safetensors")))
        #expect(model.summary.family == .vit && model.summary.patchSize == 14)
        #expect(model.summary.evidence.contains(
            "positions resampled: bicubic to the grid's size, no antialias (the file's metadata pos_interpolation)"))
    }

    @Test func unknownLayoutListsTheNames() throws {
        let checkpoint = try Checkpoint.open(path: Fixtures.path("checkpoints/dtypes.safetensors"))
        do {
            _ = try ModelLoader.load(checkpoint)
            Issue.record("loaded a non-model")
        } catch let error as UnknownArchitecture {
            #expect(error.description.hasPrefix("unknown architecture: no family recognises these names"))
            #expect(error.description.contains("f32"))
        }
    }
}
