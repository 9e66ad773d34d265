import Checkpoints

/// What a family is given: the weights, the facts that came with them, and the user's
/// overrides.
public struct LoadRequest: Sendable {
    public let checkpoint: Checkpoint
    public let facts: SourceFacts
    /// `--num-heads`, which wins over everything the source says.
    public var numHeads: Int?
    /// `--activation`, for files that do not say their feed-forward's (CLIP's GELU or QuickGELU).
    public var activation: VisionTransformer.FeedForward?

    public init(checkpoint: Checkpoint, facts: SourceFacts? = nil, numHeads: Int? = nil,
                activation: VisionTransformer.FeedForward? = nil) {
        self.checkpoint = checkpoint
        self.facts = facts ?? SourceFacts(checkpoint: checkpoint)
        self.numHeads = numHeads
        self.activation = activation
    }

    public init(source: ModelSource, numHeads: Int? = nil, activation: VisionTransformer.FeedForward? = nil) {
        self.init(checkpoint: source.checkpoint, facts: source.facts, numHeads: numHeads, activation: activation)
    }
}

/// A layout of weights that people hold (timm's ViTs, DINOv2's own files, transformers'
/// folders, torchvision's ResNets …): it recognises its names and maps them onto one of
/// the few forward passes. Each family is one file in this folder and one row of
/// `ModelLoader.families`; adding one touches no other.
protocol ModelFamily: Sendable {
    /// The family as `inspect` names it.
    var name: String { get }
    /// nil when the weights are not this family's; else the prefix its names sit under and
    /// the evidence it recognised them by.
    func recognise(_ request: LoadRequest) -> Recognition?
    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone
}

struct Recognition: Sendable {
    /// The container prefix stripped from every name (`module.backbone.` …).
    let prefix: String
    let evidence: String
}

/// Recognises the architecture of a checkpoint from its names, shapes and facts, and builds
/// the matching backbone. Every decision is written into the summary's evidence.
public enum ModelLoader {
    /// Most specific first: DINOv2's files also have timm's patch embedding.
    static let families: [any ModelFamily] = [
        DINOv3Family(), DINOv2Family(), TransformersViTFamily(), CLIPFamily(), TimmViTFamily(), ResNetFamily(), ConvNeXtFamily(),
        EfficientNetLiteFamily(),
    ]

    public static func load(_ request: LoadRequest) throws -> any Backbone {
        for family in families {
            if let recognition = family.recognise(request) {
                return try family.load(request, recognition)
            }
        }
        throw UnknownArchitecture(
            reason: "no family recognises these names (looked for " + families.map(\.name).joined(separator: ", ") + ")",
            sampleNames: request.checkpoint.names)
    }

    public static func load(_ checkpoint: Checkpoint) throws -> any Backbone {
        try load(LoadRequest(checkpoint: checkpoint))
    }

    static func squareRoot(_ value: Int) -> Int? {
        guard value > 0 else { return nil }
        let root = Int(Double(value).squareRoot().rounded())
        return root * root == value ? root : nil
    }
}

/// Where official SimPool checkpoints keep their pooling head.
public enum SimPoolHeadNames {
    public static let prefixes = ["gp.pool.", "global_pool.pool.", "simpool."]

    /// True for the tensors of a SimPool head (read by the pooling engine, not the backbone).
    public static func isHeadName(_ name: String) -> Bool {
        prefixes.contains { name.contains($0) }
    }

    /// The prefix (with any container prefix before it) of a SimPool head, if present.
    public static func find(in checkpoint: Checkpoint) -> String? {
        for name in checkpoint.names {
            for head in prefixes {
                if let range = name.range(of: head), name[range.upperBound...].hasPrefix("wq.") || name[range.upperBound...].hasPrefix("wk.") || name[range.upperBound...].hasPrefix("norm_patches.") {
                    return String(name[..<range.upperBound])
                }
            }
        }
        return nil
    }
}
