import Checkpoints

/// torchvision's and timm's ResNets (and the official SimPool ResNet-50): `layer1.0.conv1`.
struct ResNetFamily: ModelFamily {
    static let familyName = "ResNet (torchvision / timm)"
    var name: String { Self.familyName }

    func recognise(_ request: LoadRequest) -> Recognition? {
        WeightSource.prefix(of: "layer1.0.conv1.weight", in: request.checkpoint)
            .map { Recognition(prefix: $0, evidence: "layer1.0.conv1: a ResNet (names)") }
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        try ResNet(checkpoint: request.checkpoint, prefix: recognition.prefix)
    }
}

/// EfficientNet-Lite in the lukemelas-style port's names (`_conv_stem`, `_blocks`).
struct EfficientNetLiteFamily: ModelFamily {
    static let familyName = "EfficientNet-Lite (lukemelas-style port)"
    var name: String { Self.familyName }

    func recognise(_ request: LoadRequest) -> Recognition? {
        WeightSource.prefix(of: "_conv_stem.weight", in: request.checkpoint)
            .map { Recognition(prefix: $0, evidence: "_conv_stem: an EfficientNet (names)") }
    }

    func load(_ request: LoadRequest, _ recognition: Recognition) throws -> any Backbone {
        try EfficientNetLite(checkpoint: request.checkpoint, prefix: recognition.prefix)
    }
}
