/// A fact about a model together with where it came from, so that `inspect` can say why
/// the loader believes it (`heads 4 (config.json num_attention_heads)`).
public struct Sourced<Value: Sendable>: Sendable {
    public let value: Value
    public let origin: String

    public init(_ value: Value, _ origin: String) {
        self.value = value
        self.origin = origin
    }
}

/// What a model source says about the model beside its tensors: a Hugging Face folder's
/// `config.json` and `preprocessor_config.json`, a safetensors file's metadata, the
/// training arguments a checkpoint was saved with. Families read the facts they need;
/// each one keeps its origin.
public struct SourceFacts: Sendable {
    /// `config.json` as written by transformers or timm, when the source has one.
    public var config: JSONValue?
    /// `preprocessor_config.json`, when the source has one.
    public var preprocessor: JSONValue?
    /// The safetensors `__metadata__` strings.
    public var metadata: [String: String] = [:]
    /// The training arguments (`args` entry of a training checkpoint), by attribute name.
    public var trainingArguments: [String: PickleValue] = [:]

    public init(config: JSONValue? = nil, preprocessor: JSONValue? = nil, metadata: [String: String] = [:],
                trainingArguments: [String: PickleValue] = [:]) {
        self.config = config
        self.preprocessor = preprocessor
        self.metadata = metadata
        self.trainingArguments = trainingArguments
    }

    /// The facts a weights file carries by itself: its metadata and training arguments.
    public init(checkpoint: Checkpoint) {
        self.init(metadata: checkpoint.metadata, trainingArguments: Self.trainingArguments(checkpoint))
    }

    /// The `args` entry of a training checkpoint (an argparse Namespace or a dict), by name.
    static func trainingArguments(_ checkpoint: Checkpoint) -> [String: PickleValue] {
        guard let args = checkpoint.otherEntries.first(where: { $0.key == "args" })?.value else { return [:] }
        let dict: PickleDict?
        switch args {
        case .object(let record): dict = record.attributes
        case .dict(let value): dict = value
        default: dict = nil
        }
        var result: [String: PickleValue] = [:]
        for pair in dict?.pairs ?? [] {
            if case .string(let key) = pair.key { result[key] = pair.value }
        }
        return result
    }

    /// An integer from config.json, first of `keys` present.
    public func configInt(_ keys: String...) -> Sourced<Int>? {
        for key in keys { if let value = config?[key]?.int { return Sourced(value, "config.json \(key)") } }
        return nil
    }

    public func configDouble(_ keys: String...) -> Sourced<Double>? {
        for key in keys { if let value = config?[key]?.double { return Sourced(value, "config.json \(key)") } }
        return nil
    }

    public func configString(_ keys: String...) -> Sourced<String>? {
        for key in keys { if let value = config?[key]?.string { return Sourced(value, "config.json \(key)") } }
        return nil
    }

    public func configBool(_ keys: String...) -> Sourced<Bool>? {
        for key in keys { if let value = config?[key]?.bool { return Sourced(value, "config.json \(key)") } }
        return nil
    }

    /// transformers' `architectures` list (`["ViTForImageClassification"]`).
    public var architectures: [String] { config?["architectures"]?.array?.compactMap(\.string) ?? [] }

    /// A model name recorded with the weights: timm's config.json `architecture`, or the
    /// training arguments' `model` / `arch`.
    public var architectureName: Sourced<String>? {
        if let name = config?["architecture"]?.string { return Sourced(name, "config.json architecture") }
        for key in ["model", "arch"] {
            if case .string(let name)? = trainingArguments[key] { return Sourced(name, "training args \(key)") }
        }
        return nil
    }

    /// Per-channel mean and standard deviation: preprocessor_config.json's `image_mean` /
    /// `image_std`, timm's `pretrained_cfg` `mean` / `std`, or the file's metadata.
    public var normalization: Sourced<(mean: [Float], std: [Float])>? {
        if let mean = preprocessor?["image_mean"]?.floats(count: 3), let std = preprocessor?["image_std"]?.floats(count: 3) {
            return Sourced((mean, std), "preprocessor_config.json image_mean / image_std")
        }
        if let cfg = config?["pretrained_cfg"], let mean = cfg["mean"]?.floats(count: 3), let std = cfg["std"]?.floats(count: 3) {
            return Sourced((mean, std), "config.json pretrained_cfg mean / std")
        }
        if let cfg = config?["preprocess_cfg"], let mean = cfg["mean"]?.floats(count: 3), let std = cfg["std"]?.floats(count: 3) {
            return Sourced((mean, std), "open_clip_config.json preprocess_cfg mean / std")
        }
        func numbers(_ text: String) -> [Float] {
            text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        }
        if let mean = metadata["mean"].map(numbers), let std = metadata["std"].map(numbers), mean.count == 3, std.count == 3 {
            return Sourced((mean, std), "the file's metadata mean / std")
        }
        return nil
    }

    /// Class names: transformers' `id2label` (keys are the class indices as strings), or
    /// timm's `label_names`.
    public var labels: Sourced<[String]>? {
        if let table = config?["id2label"]?.object, !table.isEmpty {
            var names = [String](repeating: "", count: table.count)
            for (key, value) in table {
                guard let index = Int(key), index >= 0, index < names.count, let name = value.string else { return nil }
                names[index] = name
            }
            // transformers writes LABEL_0, LABEL_1 … when nobody named the classes.
            if names.enumerated().allSatisfy({ $0.element == "LABEL_\($0.offset)" }) { return nil }
            return Sourced(names, "config.json id2label")
        }
        if let names = config?["label_names"]?.array?.compactMap(\.string), !names.isEmpty {
            return Sourced(names, "config.json label_names")
        }
        return nil
    }
}
