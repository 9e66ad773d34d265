import Checkpoints

/// ConvNeXt in timm's names (`stem.0`, `stages.N.blocks.M.conv_dw`, `head.fc`) and
/// torchvision's (`features.0.0`, `features.K.M.block.0`, `layer_scale`, `classifier.2`),
/// the latter mapped onto the former: torchvision's `features` alternate stages (odd
/// indices) and downsampling layers (even indices from 2).
struct ConvNeXtFamily: ModelFamily {
    static let familyName = "ConvNeXt (timm / torchvision)"
    var name: String { Self.familyName }

    func recognise(_ request: LoadRequest) -> Recognition? {
        if let prefix = WeightSource.prefix(of: "stages.0.blocks.0.conv_dw.weight", in: request.checkpoint) {
            return Recognition(prefix: prefix, evidence: "stem.0 and stages.N.blocks.M.conv_dw: timm's ConvNeXt names")
        }
        if let prefix = WeightSource.prefix(of: "features.1.0.block.0.weight", in: request.checkpoint),
           request.checkpoint[prefix + "features.1.0.layer_scale"] != nil {
            return Recognition(prefix: prefix, evidence: "features.K.M.block and layer_scale: torchvision's ConvNeXt names")
        }
        return nil
    }

    /// torchvision's names → timm's.
    static func timmName(_ name: String) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return nil }
        if parts[0] == "features", let k = Int(parts[1]) {
            let rest = parts.dropFirst(2)
            if k == 0 { return "stem." + rest.joined(separator: ".") }
            if k % 2 == 0 { return "stages.\(k / 2).downsample." + rest.joined(separator: ".") }
            // features.(2s+1).M.block.{0: dw, 2: norm, 3: fc1, 5: fc2} and .layer_scale
            guard rest.count >= 2, let block = Int(rest.first!) else { return nil }
            let head = "stages.\((k - 1) / 2).blocks.\(block)."
            let tail = Array(rest.dropFirst())
            if tail == ["layer_scale"] { return head + "gamma" }
            guard tail.count == 3, tail[0] == "block", let layer = Int(tail[1]) else { return nil }
            let module = [0: "conv_dw", 2: "norm", 3: "mlp.fc1", 5: "mlp.fc2"][layer]
            return module.map { head + $0 + "." + tail[2] }
        }
        if parts[0] == "classifier", parts.count == 3 {
            return ["0": "head.norm.", "2": "head.fc."][parts[1]].map { $0 + parts[2] }
        }
        return nil
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        let torchvision = request.checkpoint[recognition.prefix + "features.0.0.weight"] != nil
        let rename: ((String) -> String?)? = torchvision ? { Self.timmName($0) } : nil
        let weights = WeightSource(checkpoint: request.checkpoint, prefix: recognition.prefix,
                                   naming: torchvision ? "torchvision's names mapped onto timm's" : nil, rename: rename)
        var evidence = [recognition.evidence]
        if !recognition.prefix.isEmpty { evidence.append("weights under prefix '\(recognition.prefix)' (stripped)") }
        let simpool = SimPoolHeadNames.find(in: request.checkpoint) != nil
        if simpool { evidence.append("SimPool pooling head present (names)") }
        let layout = torchvision ? "torchvision" : "timm"
        let prefix = recognition.prefix
        let summarise: (Int, Int?, [Int]) throws -> ArchitectureSummary = { width, classes, depths in
            var lines = evidence
            lines.append("4 stages of \(depths) blocks, width \(width) at the end (names)")
            if let classes { lines.append("\(classes)-class classifier (names)") }
            let harmless = try TensorAccounting.check(weights, family: Self.familyName)
            return ArchitectureSummary(family: .convnext, familyName: Self.familyName, name: "ConvNeXt \(depths) (\(layout) layout)",
                                       layerCount: 4, width: width, classCount: classes, hasSimPoolHead: simpool,
                                       evidence: lines, stripPrefix: prefix, unusedNames: harmless)
        }
        return try ConvNeXt(weights: weights, summary: summarise)
    }
}
