@testable import Backbones
import Checkpoints
import Testing

/// The head count's sources, in order, and the table of standard ViTs whose head width is
/// not 64 (values from the models' published configurations).
struct HeadCountTests {
    @Test(arguments: [
        ("vit_huge_patch14_224", 1280, 16),          // 16 heads of 80
        ("ViT-g-14", 1408, 16),                      // OpenCLIP: 16 heads of 88
        ("ViT-bigG-14", 1664, 16),                   // 16 heads of 104
        ("vit_giant2", 1536, 24),                    // DINOv2 ViT-g/14: 24 heads of 64
        ("dinov2_vitg14_reg", 1536, 24),
        ("vit_small_patch16_224.augreg_in21k", 384, 6),
        ("deit_tiny_patch16_224", 192, 3),
        ("vit_large_patch16_224", 1024, 16),
    ])
    func standardNamesGiveTheirHeads(name: String, width: Int, heads: Int) {
        #expect(HeadCount.standardHeads(name: name, width: width) == heads)
    }

    @Test func aNameWhoseWidthDiffersIsNotUsed() {
        #expect(HeadCount.standardHeads(name: "vit_small_patch16_224", width: 128) == nil)
    }

    @Test func theSourcesComeInOrder() throws {
        let named = SourceFacts(trainingArguments: ["model": .string("vit_huge_patch14_224")])
        let fromName = try HeadCount.resolve(width: 1280, flag: nil, declared: nil, facts: named)
        #expect(fromName.heads == 16 && !fromName.guessed && fromName.origin.contains("vit_huge"))

        let explicit = SourceFacts(trainingArguments: ["model": .string("vit_huge_patch14_224"), "num_heads": .int(10)])
        #expect(try HeadCount.resolve(width: 1280, flag: nil, declared: nil, facts: explicit).heads == 10)

        let declared = Sourced(8, "config.json num_attention_heads")
        #expect(try HeadCount.resolve(width: 1280, flag: nil, declared: declared, facts: explicit).heads == 8)
        let flagged = try HeadCount.resolve(width: 1280, flag: 5, declared: declared, facts: explicit)
        #expect(flagged.heads == 5 && flagged.origin == "--num-heads")

        let guessed = try HeadCount.resolve(width: 1280, flag: nil, declared: nil, facts: SourceFacts())
        #expect(guessed.heads == 20 && guessed.guessed && guessed.origin.contains("--num-heads"))
    }

    @Test func aCountThatDoesNotDivideTheWidthIsRefused() {
        #expect(throws: UnknownArchitecture.self) {
            try HeadCount.resolve(width: 384, flag: 5, declared: nil, facts: SourceFacts())
        }
    }
}

extension HeadCountTests {
    @Test func aNamedModelOfAnotherWidthKeepsItsHeadsAsAGuess() throws {
        let facts = SourceFacts(trainingArguments: ["arch": .string("vit_tiny")])
        let resolved = try HeadCount.resolve(width: 48, flag: nil, declared: nil, facts: facts)
        #expect(resolved.heads == 3 && resolved.guessed && resolved.origin.contains("192"))
    }
}
