/// What was detected in a checkpoint and why: printed by `inspect`.
public struct ArchitectureSummary: Sendable, Equatable {
    public enum Family: String, Sendable {
        case vit, resnet, convnext, efficientnetLite = "efficientnet-lite"
    }

    public let family: Family
    /// The layout family that recognised the weights ("DINOv2 (facebookresearch/dinov2)" …).
    public let familyName: String
    /// A short name such as "ViT-S/14 (DINOv2 layout)" or "ResNet-50".
    public let name: String
    /// Layer count offered to the explorer (blocks for ViTs, stages for CNNs).
    public let layerCount: Int
    public let width: Int
    public let heads: Int?
    /// True when no source said the head count and width / 64 was assumed.
    public let headsGuessed: Bool
    public let patchSize: Int?
    public let classCount: Int?
    public let hasSimPoolHead: Bool
    /// A transformer with a [CLS] token.
    public let hasClassToken: Bool
    /// The facts the verdict rests on, one per line.
    public let evidence: [String]
    /// The input statistics the family's models are trained with, when they are not
    /// ImageNet's and the source does not say (CLIP's own mean and std).
    public var statistics: InputStatistics?
    /// The key prefix stripped from the checkpoint's names (`module.`, `backbone.` …).
    public let stripPrefix: String
    /// Checkpoint names the model does not read and that change nothing it computes
    /// (listed, not fatal; `TensorAccounting` refuses the others).
    public let unusedNames: [String]

    public init(family: Family, familyName: String, name: String, layerCount: Int, width: Int, heads: Int? = nil,
                headsGuessed: Bool = false, patchSize: Int? = nil, classCount: Int?, hasSimPoolHead: Bool, hasClassToken: Bool = false,
                evidence: [String], stripPrefix: String, unusedNames: [String]) {
        self.family = family
        self.familyName = familyName
        self.name = name
        self.layerCount = layerCount
        self.width = width
        self.heads = heads
        self.headsGuessed = headsGuessed
        self.patchSize = patchSize
        self.classCount = classCount
        self.hasSimPoolHead = hasSimPoolHead
        self.hasClassToken = hasClassToken
        self.evidence = evidence
        self.stripPrefix = stripPrefix
        self.unusedNames = unusedNames
    }
}

/// A checkpoint whose layout is not one we know, with the names that did not match.
public struct UnknownArchitecture: Error, CustomStringConvertible {
    public let reason: String
    public let sampleNames: [String]

    public var description: String {
        let names = sampleNames.prefix(8).joined(separator: ", ")
        return "unknown architecture: \(reason)" + (names.isEmpty ? "" : " (names: \(names)\(sampleNames.count > 8 ? ", …" : ""))")
    }
}


/// Per-channel mean and standard deviation of a model's inputs, with where they came from.
public struct InputStatistics: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]
    public let origin: String

    public init(mean: [Float], std: [Float], origin: String) {
        self.mean = mean
        self.std = std
        self.origin = origin
    }

    /// OpenAI's CLIP statistics (open_clip's OPENAI_DATASET_MEAN / STD).
    public static let clip = InputStatistics(mean: [0.48145466, 0.4578275, 0.40821073],
                                             std: [0.26862954, 0.26130258, 0.27577711], origin: "CLIP's own mean and std")
}
