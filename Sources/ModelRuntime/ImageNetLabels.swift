import Foundation

/// Class names for 1000-class ImageNet heads, from `Samples/imagenet_labels.txt`
/// ("background" then the 1000 classes, so class i is line i + 1).
public struct ImageNetLabels: Sendable {
    public let names: [String]

    public init(names: [String]) {
        self.names = names
    }

    public init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        names = Array(lines.dropFirst().prefix(1000))
    }

    public static func bundled() -> ImageNetLabels? {
        guard let samples = BundledModels.samplesDirectory else { return nil }
        return try? ImageNetLabels(path: samples.appendingPathComponent("imagenet_labels.txt").path)
    }

    /// The first of a class's synonyms ("tabby" for "tabby, tabby cat").
    public func name(_ index: Int) -> String {
        guard index >= 0 && index < names.count else { return "class \(index)" }
        return String(names[index].split(separator: ",").first ?? Substring(names[index]))
    }

    /// The `count` highest logits as (class, name, probability).
    public func top(_ logits: [Float], count: Int = 5) -> [(index: Int, name: String, probability: Float)] {
        let maximum = Double(logits.max() ?? 0)
        let exps = logits.map { Foundation.exp(Double($0) - maximum) }
        let total = exps.reduce(0, +)
        return logits.indices.sorted { logits[$0] > logits[$1] }.prefix(count).map {
            ($0, logits.count == 1000 ? name($0) : "class \($0)", Float(exps[$0] / total))
        }
    }
}
