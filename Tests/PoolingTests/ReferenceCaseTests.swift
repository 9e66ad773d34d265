import Checkpoints
import Foundation
import Pooling
import Tensors
import Testing
import TestSupport

/// Every method against the independent NumPy / PyTorch implementations of
/// Tools/make_pooling_fixtures.py, within 1e-5 relative.
struct ReferenceCaseTests {
    nonisolated(unsafe) static let cases: [[String: Any]] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("pooling/cases.json")))
        return try! JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    }()
    static let tensors = try! Checkpoint.open(path: Fixtures.path("pooling/cases.safetensors"))

    static func tensor(_ name: String) -> Tensor { tensors[name]!.tensor() }

    static func input(for entry: [String: Any]) -> PoolingInput {
        let features = tensor(entry["features"] as! String)
        let grid = entry["grid"] as! [Int]
        var input = PoolingInput(features: features, gridHeight: grid[0], gridWidth: grid[1])
        if let attention = entry["attention"] as? [String] {
            input.attentionStack = attention.map(tensor)
            input.attention = input.attentionStack.last
            input.prefixTokens = entry["prefix"] as! Int
            input.classToken = tensor(entry["class_token"] as! String).scalars
            input.head = (entry["head"] as? Int).map(HeadSelection.index)
                ?? (entry["head_fusion"] as? String).flatMap(HeadSelection.init(parsing:)) ?? .mean
        }
        return input
    }

    static func context(for entry: [String: Any]) -> MethodCatalog.Context {
        guard let head = entry["head"] as? [String: String] else { return MethodCatalog.Context() }
        let beta = (entry["beta"] as? NSNumber).map { Float(truncating: $0) }
        return MethodCatalog.Context(simpoolWeights: SimPoolWeights(
            queryWeight: tensor(head["wq"]!), keyWeight: tensor(head["wk"]!),
            normWeight: tensor(head["norm_weight"]!), normBias: tensor(head["norm_bias"]!), beta: beta))
    }

    static func relative(_ got: [Float], _ want: [Float]) -> Double {
        let scale = max(want.map { abs(Double($0)) }.max() ?? 0, 1e-12)
        return zip(got, want).map { abs(Double($0) - Double($1)) }.max().map { $0 / scale } ?? 0
    }

    @Test(arguments: cases.indices)
    func methodMatchesReference(index: Int) throws {
        let entry = Self.cases[index]
        let id = entry["id"] as! String
        let specification = try #require(try MethodCatalog.parse(entry["method"] as! String).first)
        let method = try MethodCatalog.make(specification, context: Self.context(for: entry))
        let result = try method.pool(Self.input(for: entry))
        let pooled = Self.tensor(entry["pooled"] as! String).scalars
        let map = Self.tensor(entry["map"] as! String).scalars
        #expect(result.pooled.count == pooled.count)
        #expect(Self.relative(result.pooled, pooled) <= 1e-5, "\(id): pooled differs by \(Self.relative(result.pooled, pooled))")
        #expect(Self.relative(result.map, map) <= 1e-5, "\(id): map differs by \(Self.relative(result.map, map))")
        if let signed = entry["signed"] as? String {
            let want = Self.tensor(signed).scalars
            #expect(Self.relative(try #require(result.signedWeights), want) <= 1e-5, "\(id): signed weights")
        }
    }
}
