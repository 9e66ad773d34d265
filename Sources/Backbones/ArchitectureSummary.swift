/// What was detected in a checkpoint and why: printed by `inspect`.
public struct ArchitectureSummary: Sendable, Equatable {
    public enum Family: String, Sendable {
        case vit, resnet, efficientnetLite = "efficientnet-lite"
    }

    public let family: Family
    /// A short name such as "ViT-S/14 (DINOv2 layout)" or "ResNet-50".
    public let name: String
    /// Layer count offered to the explorer (blocks for ViTs, stages for CNNs).
    public let layerCount: Int
    public let width: Int
    public let heads: Int?
    public let patchSize: Int?
    public let classCount: Int?
    public let hasSimPoolHead: Bool
    /// The facts the verdict rests on, one per line.
    public let evidence: [String]
    /// The key prefix stripped from the checkpoint's names (`module.`, `backbone.` …).
    public let stripPrefix: String
    /// Checkpoint names the model does not use (listed, not fatal).
    public let unusedNames: [String]
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
