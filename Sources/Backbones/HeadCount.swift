import Checkpoints

/// How many attention heads a ViT has. No state dict says it (the fused qkv weight is the
/// same for 6 heads of 64 as for 12 of 32), so it is taken, in this order, from
/// `--num-heads`, the file's own metadata or config, the training arguments' explicit
/// `num_heads`, a standard model name recorded with the weights, and only then guessed as
/// width / 64, flagged as a guess.
public enum HeadCount {
    /// Standard ViTs by a name fragment (lowercased), most specific first: width and heads.
    /// Several are not width / 64: ViT-H/14 (16 of 80), OpenCLIP ViT-g/14 (16 of 88),
    /// ViT-bigG/14 (16 of 104), SigLIP So400m (16 of 72), DINOv2 ViT-g/14 (24 of 64).
    static let standard: [(fragment: String, width: Int, heads: Int)] = [
        ("vit_gigantic", 1664, 16), ("vit-bigg", 1664, 16), ("vit_bigg", 1664, 16),
        ("vit_giant2", 1536, 24), ("dinov2_vitg", 1536, 24), ("vitg14", 1536, 24),
        ("vit_giant", 1408, 16), ("vit-g-", 1408, 16),
        ("vit_so400m", 1152, 16), ("vit-so400m", 1152, 16),
        ("vit_huge", 1280, 16), ("vit-h-", 1280, 16), ("deit3_huge", 1280, 16),
        ("vit_large", 1024, 16), ("vit-l-", 1024, 16), ("deit3_large", 1024, 16), ("dinov2_vitl", 1024, 16),
        ("vit_base", 768, 12), ("vit-b-", 768, 12), ("deit_base", 768, 12), ("deit3_base", 768, 12), ("dinov2_vitb", 768, 12),
        ("vit_medium", 512, 8), ("deit3_medium", 512, 8),
        ("vit_small", 384, 6), ("deit_small", 384, 6), ("deit3_small", 384, 6), ("dinov2_vits", 384, 6),
        ("vit_tiny", 192, 3), ("deit_tiny", 192, 3),
    ]

    /// The standard model a name names: its width and heads.
    static func standardEntry(name: String) -> (width: Int, heads: Int)? {
        let lowered = name.lowercased()
        return standard.first(where: { lowered.contains($0.fragment) }).map { ($0.width, $0.heads) }
    }

    /// The head count of a standard model name, if its width is `width`.
    static func standardHeads(name: String, width: Int) -> Int? {
        guard let entry = standardEntry(name: name), entry.width == width else { return nil }
        return entry.heads
    }

    public struct Resolved: Sendable {
        public let heads: Int
        public let origin: String
        /// True when nothing said it and width / 64 was assumed.
        public let guessed: Bool
    }

    /// `declared`: what the family read from the source's config or metadata.
    static func resolve(width: Int, flag: Int?, declared: Sourced<Int>?, facts: SourceFacts) throws -> Resolved {
        let resolved: Resolved
        if let flag {
            resolved = Resolved(heads: flag, origin: "--num-heads", guessed: false)
        } else if let declared {
            resolved = Resolved(heads: declared.value, origin: declared.origin, guessed: false)
        } else if let heads = facts.trainingArguments["num_heads"]?.intValue, heads > 0 {
            resolved = Resolved(heads: heads, origin: "training args num_heads", guessed: false)
        } else if let name = facts.architectureName, let heads = standardHeads(name: name.value, width: width) {
            resolved = Resolved(heads: heads, origin: "\(name.origin) '\(name.value)', a standard model", guessed: false)
        } else if let name = facts.architectureName, let entry = standardEntry(name: name.value), width % entry.heads == 0 {
            // A resized variant of a named model (a custom width) most likely kept its heads.
            resolved = Resolved(heads: entry.heads, origin: "guessed from \(name.origin) '\(name.value)', whose standard width is "
                + "\(entry.width), not \(width); set --num-heads if wrong", guessed: true)
        } else {
            resolved = Resolved(heads: max(1, width / 64), origin: "guessed as width \(width) / 64; set --num-heads if wrong",
                                guessed: true)
        }
        guard resolved.heads > 0, width % resolved.heads == 0 else {
            throw UnknownArchitecture(reason: "width \(width) is not divisible by \(resolved.heads) heads (\(resolved.origin))", sampleNames: [])
        }
        return resolved
    }
}
