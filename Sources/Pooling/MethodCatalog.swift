/// Every pooling method by name, its parameters and defaults, and the parsing of the
/// command line's method lists: `gem:p=3,lse:r=10`, `simpool-np:gamma=2,temperature=0.5`, `all`.
public enum MethodCatalog {
    public struct Parameter: Sendable {
        public let name: String
        public let defaultText: String
        public let help: String
    }

    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        public let parameters: [Parameter]
        public let needsLearnedWeights: Bool
        public let needsAttention: Bool
    }

    public static let entries: [Entry] = [
        Entry(name: "simpool", summary: "SimPool with the checkpoint's learned head (else the non-parametric form)",
              parameters: [Parameter(name: "gamma", defaultText: "checkpoint's, else 1.25 (ViT) / 2 (CNN)", help: "power of the weighted mean; none for a plain average"),
                           Parameter(name: "heads", defaultText: "1", help: "attention heads of the pooling head")],
              needsLearnedWeights: true, needsAttention: false),
        Entry(name: "simpool-np", summary: "SimPool without learned weights (W_q = W_k = I): any layer of any model",
              parameters: [Parameter(name: "gamma", defaultText: "1.25 (ViT) / 2 (CNN)", help: "power of the weighted mean; none for a plain average"),
                           Parameter(name: "temperature", defaultText: "1", help: "divides the attention logits"),
                           Parameter(name: "heads", defaultText: "1", help: "attention heads")],
              needsLearnedWeights: false, needsAttention: false),
        Entry(name: "cls", summary: "the [CLS] token's attention over the patches; head mean: the heads' raw rows averaged, then renormalised over the patches once", parameters: [],
              needsLearnedWeights: false, needsAttention: true),
        Entry(name: "rollout", summary: "attention rollout through the blocks up to the layer (vit-explain's options)",
              parameters: [Parameter(name: "discard", defaultText: "0", help: "fraction of each fused matrix's smallest entries set to zero"),
                           Parameter(name: "fusion", defaultText: "mean", help: "how the heads are fused: mean, max or min")],
              needsLearnedWeights: false, needsAttention: true),
        Entry(name: "attnpool", summary: "the checkpoint's learned attention-pool head (SigLIP's / timm's attn_pool): its latent query's attention", parameters: [],
              needsLearnedWeights: true, needsAttention: false),
        Entry(name: "gap", summary: "global average pooling (uniform map)", parameters: [],
              needsLearnedWeights: false, needsAttention: false),
        Entry(name: "max", summary: "global max pooling; map: share of channels peaking at each patch", parameters: [],
              needsLearnedWeights: false, needsAttention: false),
        Entry(name: "gem", summary: "generalized mean pooling",
              parameters: [Parameter(name: "p", defaultText: "3", help: "power; 1 is GAP, large p tends to max")],
              needsLearnedWeights: false, needsAttention: false),
        Entry(name: "lse", summary: "log-sum-exp pooling",
              parameters: [Parameter(name: "r", defaultText: "10", help: "sharpness")],
              needsLearnedWeights: false, needsAttention: false),
        Entry(name: "gmp", summary: "generalized max pooling (LAPACK solve)",
              parameters: [Parameter(name: "lambda", defaultText: "1000", help: "ridge regulariser")],
              needsLearnedWeights: false, needsAttention: false),
        Entry(name: "how", summary: "HOW's L2-norm attention", parameters: [],
              needsLearnedWeights: false, needsAttention: false),
    ]

    public static var names: [String] { entries.map(\.name) }

    /// Every method with its default parameters, in the catalogue's order (`all`).
    public static var defaults: [Specification] { names.map { Specification(name: $0) } }

    /// A method as written: its name and the parameters given (nil value: "none").
    public struct Specification: Sendable, Equatable {
        public let name: String
        public var parameters: [String: Double?]

        public init(name: String, parameters: [String: Double?] = [:]) {
            self.name = name
            self.parameters = parameters
        }
    }

    /// What a method may take from the model it runs on.
    public struct Context: Sendable {
        public var simpoolWeights: SimPoolWeights?
        /// The checkpoint's attention-pool head, for `attnpool`.
        public var attentionPoolWeights: AttentionPoolWeights?
        /// γ from the checkpoint's training arguments.
        public var checkpointGamma: Double?
        public var isTransformer: Bool

        public init(simpoolWeights: SimPoolWeights? = nil, checkpointGamma: Double? = nil, isTransformer: Bool = true) {
            self.simpoolWeights = simpoolWeights
            self.checkpointGamma = checkpointGamma
            self.isTransformer = isTransformer
        }
    }

    /// Parses `a,b:p=1,c:x=1,y=2` and `all`. A comma-separated `key=value` continues the
    /// method before it.
    public static func parse(_ text: String) throws -> [Specification] {
        if text.trimmingCharacters(in: .whitespaces) == "all" { return defaults }
        var result: [Specification] = []
        for rawPart in text.split(separator: ",", omittingEmptySubsequences: false) {
            let part = rawPart.trimmingCharacters(in: .whitespaces)
            guard !part.isEmpty else { throw PoolingError("empty method name in '\(text)'") }
            if !part.contains(":"), part.contains("=") {
                guard !result.isEmpty else { throw PoolingError("parameter '\(part)' before any method name") }
                try assign(part, to: &result[result.count - 1])
                continue
            }
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            let name = pieces[0].lowercased()
            guard let entry = entries.first(where: { $0.name == name }) else {
                throw PoolingError("unknown method '\(pieces[0])' (methods: \(names.joined(separator: ", ")))")
            }
            var specification = Specification(name: entry.name)
            if pieces.count == 2 {
                guard !pieces[1].isEmpty else { throw PoolingError("'\(part)': parameters missing after ':'") }
                try assign(pieces[1], to: &specification)
            }
            result.append(specification)
        }
        return result
    }

    private static func assign(_ text: String, to specification: inout Specification) throws {
        let pair = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard pair.count == 2, !pair[0].isEmpty else { throw PoolingError("'\(text)' is not name=value") }
        let entry = entries.first { $0.name == specification.name }!
        guard entry.parameters.contains(where: { $0.name == pair[0] }) else {
            let known = entry.parameters.map(\.name)
            throw PoolingError("\(specification.name) has no parameter '\(pair[0])'" + (known.isEmpty ? " (it takes none)" : " (it takes \(known.joined(separator: ", ")))"))
        }
        if pair[1] == "none", pair[0] == "gamma" {
            specification.parameters[pair[0]] = .some(nil)
            return
        }
        if pair[0] == "fusion" {
            guard let code = fusions.firstIndex(where: { $0.description == pair[1] }) else {
                throw PoolingError("\(specification.name): fusion='\(pair[1])' is not mean, max or min")
            }
            specification.parameters[pair[0]] = Double(code)
            return
        }
        if pair[0] == "discard", let value = Double(pair[1]), !(value >= 0 && value < 1) {
            throw PoolingError("\(specification.name): discard=\(pair[1]) is not in [0, 1)")
        }
        guard let value = Double(pair[1]), value.isFinite else {
            throw PoolingError("\(specification.name): \(pair[0])='\(pair[1])' is not a number")
        }
        specification.parameters[pair[0]] = value
    }

    /// Every method with its defaults that this model can run: the learned heads only where
    /// the checkpoint has them.
    public static func defaults(for context: Context) -> [Specification] {
        defaults.filter {
            ($0.name != "simpool" || context.simpoolWeights != nil) && ($0.name != "attnpool" || context.attentionPoolWeights != nil)
        }
    }

    /// The head fusions a `fusion=` parameter names, by their stored code.
    static let fusions: [HeadSelection] = [.mean, .max, .min]

    /// Builds the method value for a specification in a model's context.
    public static func make(_ specification: Specification, context: Context) throws -> any PoolingMethod {
        func value(_ name: String) -> Double?? { specification.parameters[name] }
        func number(_ name: String, _ fallback: Double) -> Double { (value(name) ?? fallback) ?? fallback }
        let defaultGamma = context.isTransformer ? 1.25 : 2.0
        switch specification.name {
        case "gap": return GAPPooling()
        case "max": return MaxPooling()
        case "how": return HOWPooling()
        case "cls": return CLSPooling()
        case "rollout":
            return RolloutPooling(discard: number("discard", 0), fusion: fusions[Int(number("fusion", 0))])
        case "gem": return GeMPooling(p: number("p", 3))
        case "lse": return LSEPooling(r: number("r", 10))
        case "gmp": return GMPPooling(lambda: number("lambda", 1000))
        case "attnpool": return AttentionPoolHead(weights: context.attentionPoolWeights)
        case "simpool", "simpool-np":
            let learned = specification.name == "simpool" ? context.simpoolWeights : nil
            let fallback: Double = learned != nil ? (context.checkpointGamma ?? defaultGamma) : defaultGamma
            let gamma: Double? = value("gamma") ?? fallback
            let headsValue: Double = (value("heads") ?? 1) ?? 1
            guard headsValue >= 1, headsValue == headsValue.rounded() else {
                throw PoolingError("\(specification.name): heads must be a positive whole number")
            }
            let heads = Int(headsValue)
            let temperature: Double = (value("temperature") ?? 1) ?? 1
            return SimPoolPooling(weights: learned, gamma: gamma, heads: heads, temperature: temperature)
        default:
            throw PoolingError("unknown method '\(specification.name)'")
        }
    }
}

import Foundation
