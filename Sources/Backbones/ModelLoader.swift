import Checkpoints

/// Recognises the architecture of a checkpoint from its tensor names and shapes and builds
/// the matching backbone. Every decision is written into the summary's evidence.
public enum ModelLoader {
    public static func load(_ checkpoint: Checkpoint) throws -> any Backbone {
        if let prefix = WeightSource.prefix(of: "patch_embed.proj.weight", in: checkpoint) {
            return try loadViT(checkpoint, prefix: prefix)
        }
        if let prefix = WeightSource.prefix(of: "layer1.0.conv1.weight", in: checkpoint) {
            return try ResNet(checkpoint: checkpoint, prefix: prefix)
        }
        if let prefix = WeightSource.prefix(of: "_conv_stem.weight", in: checkpoint) {
            return try EfficientNetLite(checkpoint: checkpoint, prefix: prefix)
        }
        throw UnknownArchitecture(
            reason: "no patch embedding (ViT), layer1 (ResNet) or _conv_stem (EfficientNet) found",
            sampleNames: checkpoint.names)
    }

    static func loadViT(_ checkpoint: Checkpoint, prefix: String) throws -> VisionTransformer {
        let weights = WeightSource(checkpoint: checkpoint, prefix: prefix)
        var evidence: [String] = []
        if !prefix.isEmpty { evidence.append("weights under prefix '\(prefix)' (stripped)") }
        guard let patch = weights.shape("patch_embed.proj.weight"), patch.count == 4, patch[1] == 3, patch[2] == patch[3] else {
            throw UnknownArchitecture(reason: "patch_embed.proj.weight is not [width, 3, p, p]", sampleNames: [])
        }
        let width = patch[0], patchSize = patch[2]
        evidence.append("patch_embed.proj.weight \(patch): width \(width), patch \(patchSize)")

        let blockIndices = Set(checkpoint.names.compactMap { name -> Int? in
            guard name.hasPrefix(prefix + "blocks.") else { return nil }
            return Int(name.dropFirst((prefix + "blocks.").count).prefix { $0.isNumber })
        })
        let depth = blockIndices.count
        guard depth > 0, blockIndices == Set(0..<depth) else {
            throw UnknownArchitecture(reason: "blocks are not numbered 0…n−1", sampleNames: [])
        }
        evidence.append("blocks.0 … blocks.\(depth - 1): depth \(depth)")

        let metadata = checkpoint.metadata
        let heads: Int
        if let declared = metadata["num_heads"].flatMap(Int.init) {
            heads = declared
            evidence.append("num_heads \(heads) from the file's metadata")
        } else if let (declared, source) = headsFromTrainingArguments(checkpoint) {
            heads = declared
            evidence.append("heads \(heads) from the training arguments (\(source))")
        } else {
            heads = max(1, width / 64)
            evidence.append("heads \(heads): width \(width) / head width 64 (timm, DeiT, DINO, DINOv2 rule)")
        }
        guard width % heads == 0 else {
            throw UnknownArchitecture(reason: "width \(width) is not divisible by \(heads) heads", sampleNames: [])
        }

        let hasClassToken = weights.has("cls_token")
        evidence.append(hasClassToken ? "cls_token present" : "no cls_token (SimPool-style ViT)")
        let registers = weights.shape("reg_token")?[1] ?? 0
        if registers > 0 { evidence.append("reg_token: \(registers) registers") }
        let prefixTokens = (hasClassToken ? 1 : 0) + registers

        var grid = (height: 0, width: 0)
        var coversPrefix = false
        if let rows = weights.shape("pos_embed")?[1] {
            if prefixTokens > 0, let side = squareRoot(rows - prefixTokens) {
                grid = (side, side)
                coversPrefix = true
            } else if let side = squareRoot(rows) {
                grid = (side, side)
            } else if hasClassToken, let side = squareRoot(rows - 1) {
                grid = (side, side)
                coversPrefix = true
            } else {
                throw UnknownArchitecture(reason: "pos_embed has \(rows) rows, not a square grid plus prefix tokens", sampleNames: [])
            }
            evidence.append("pos_embed \(rows) rows: \(grid.height)×\(grid.width) grid" + (coversPrefix ? " + prefix rows" : ""))
        }

        let layerScale = weights.has("blocks.0.ls1.gamma")
        if layerScale { evidence.append("blocks.0.ls1.gamma: LayerScale (DINOv2 / DeiT-III layout)") }
        let classes = weights.shape("head.weight")?[0]
        if let classes { evidence.append("head.weight: \(classes)-class classifier") }
        let meanPooled = weights.has("fc_norm.weight") || (!hasClassToken && classes != nil)
        let simpool = SimPoolHeadNames.find(in: checkpoint) != nil
        if simpool { evidence.append("SimPool pooling head present") }

        // DINO and DINOv2 resample positions with plain bicubic interpolation, timm with
        // antialiasing; the file's metadata may say which.
        let resampling: PositionResampling
        if let declared = metadata["pos_interpolation"].flatMap(PositionResampling.init(rawValue:)) {
            resampling = declared
            evidence.append("position resampling '\(declared.rawValue)' from the file's metadata")
        } else if prefix.contains("backbone") || weights.has("mask_token") {
            resampling = .bicubic
            evidence.append("DINO-style names: positions resampled with plain bicubic")
        } else {
            resampling = .antialiasedBicubic
            evidence.append("timm-style names: positions resampled with antialiased bicubic")
        }
        let eps = metadata["norm_eps"].flatMap(Float.init) ?? 1e-6

        let config = VisionTransformer.Config(
            width: width, depth: depth, heads: heads, patchSize: patchSize, hasClassToken: hasClassToken,
            registerCount: registers, positionGrid: grid, positionsCoverPrefix: coversPrefix,
            positionResampling: resampling, normEps: eps, classCount: classes, headUsesMeanPooling: meanPooled)
        let family = layerScale ? (registers > 0 ? "DINOv2 layout with registers" : "DINOv2 layout")
            : (hasClassToken ? "timm/DeiT layout" : "SimPool layout, no [CLS]")
        let size = ["192": "Ti", "384": "S", "768": "B", "1024": "L"][String(width)] ?? "\(width)-wide"
        // Build first so that the unused-name list reflects what the model really read.
        let placeholder = ArchitectureSummary(
            family: .vit, name: "ViT-\(size)/\(patchSize) (\(family))", layerCount: depth, width: width,
            heads: heads, patchSize: patchSize, classCount: classes, hasSimPoolHead: simpool,
            evidence: evidence, stripPrefix: prefix, unusedNames: [])
        let model = try VisionTransformer(config: config, summary: placeholder, weights: weights)
        let summary = ArchitectureSummary(
            family: .vit, name: placeholder.name, layerCount: depth, width: width, heads: heads,
            patchSize: patchSize, classCount: classes, hasSimPoolHead: simpool, evidence: evidence,
            stripPrefix: prefix, unusedNames: weights.unusedNames.filter { !SimPoolHeadNames.isHeadName($0) })
        return model.with(summary: summary)
    }

    /// Training scripts save their `args`: an explicit `num_heads`, or a timm/DINO model
    /// name whose size fixes the head count (tiny 3, small 6, base 12, large 16, huge 16).
    static func headsFromTrainingArguments(_ checkpoint: Checkpoint) -> (Int, String)? {
        guard let args = checkpoint.otherEntries.first(where: { $0.key == "args" })?.value,
              case .object(let record) = args, let attributes = record.attributes else { return nil }
        if let heads = attributes["num_heads"]?.intValue, heads > 0 { return (heads, "num_heads") }
        for key in ["model", "arch"] {
            guard let name = attributes[key]?.stringValue else { continue }
            for (size, heads) in [("tiny", 3), ("small", 6), ("base", 12), ("large", 16), ("huge", 16)]
            where name.contains("vit_\(size)") || name.contains("deit_\(size)") {
                return (heads, "\(key) '\(name)'")
            }
        }
        return nil
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
