import Backbones
import Dispatch
import ModelRuntime
import Pooling

/// The current method applied to the current image's trace.
public struct MapComputation: Sendable {
    public let result: PoolingResult
    public let gridHeight: Int
    public let gridWidth: Int
    public let methodText: String
    public let milliseconds: Double
    /// The method as export file names give it: a patch query's attention row is `cls`
    /// from another token, its rollout `rollout`, and the features' one `similarity`.
    public let fileMethodText: String

    public init(result: PoolingResult, gridHeight: Int, gridWidth: Int, methodText: String, milliseconds: Double,
                fileMethodText: String? = nil) {
        self.result = result
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        self.methodText = methodText
        self.milliseconds = milliseconds
        self.fileMethodText = fileMethodText ?? methodText
    }

    /// nil with a reason when the method cannot run on this layer.
    public static func compute(_ state: ExplorerState) -> Result<MapComputation, PoolingError>? {
        guard let result = state.current?.result else { return nil }
        return compute(trace: result.trace, state: state, layer: state.layer, head: state.head, methodIndex: state.methodIndex)
    }

    /// The map of one tile (or the single view) of a state: its layer, head and method,
    /// and the state's patch query.
    public static func compute(trace: Trace, state: ExplorerState, layer: Int, head: HeadSelection,
                               methodIndex: Int) -> Result<MapComputation, PoolingError> {
        compute(trace: trace, specification: state.methods[methodIndex], context: state.model.context, layer: layer,
                head: head, isTransformer: state.model.isTransformer, query: state.query)
    }

    /// One method on one layer (0-based, clamped to the trace) and head of a trace. With a
    /// query the map is where that patch looks instead: its attention row (rollout: its
    /// row of the rollout product), or, for models without attention and on request, its
    /// features' cosine similarity with every patch.
    public static func compute(trace: Trace, specification: MethodCatalog.Specification, context: MethodCatalog.Context,
                               layer: Int, head: HeadSelection, isTransformer: Bool,
                               query: ExplorerState.Query? = nil) -> Result<MapComputation, PoolingError> {
        let layer = min(layer, trace.layers.count - 1)
        do {
            var method = try MethodCatalog.make(specification, context: context)
            var patch: Int?
            var label: String?
            var fileMethod: String?
            if let query {
                let chosen = layer == trace.layers.count - 1 ? trace.final : trace.layers[layer]
                let grid = (trace.final.gridHeight, trace.final.gridWidth)
                // The query sits on the final grid; a CNN's earlier stages have finer ones.
                let row = min(chosen.gridHeight - 1, (2 * query.row + 1) * chosen.gridHeight / (2 * grid.0))
                let column = min(chosen.gridWidth - 1, (2 * query.column + 1) * chosen.gridWidth / (2 * grid.1))
                patch = row * chosen.gridWidth + column
                let attends = isTransformer && !query.similarity && trace.hasBlockAttention
                if !attends {
                    method = PatchSimilarity()
                } else if !(method is RolloutPooling) {
                    method = PatchQueryAttention()
                }
                label = "\(method.specification) from \(query.row),\(query.column)"
                fileMethod = method is PatchQueryAttention ? "cls" : method.specification
            }
            let input = PoolingInput(trace: trace, layer: layer, head: head, isTransformer: isTransformer,
                                     queryPatch: patch, rollout: method as? RolloutPooling)
            let start = DispatchTime.now().uptimeNanoseconds
            let pooled = try method.pool(input)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            return .success(MapComputation(result: pooled, gridHeight: input.gridHeight ?? 1,
                                           gridWidth: input.gridWidth ?? input.tokenCount,
                                           methodText: label ?? method.specification, milliseconds: elapsed,
                                           fileMethodText: fileMethod))
        } catch let error as PoolingError {
            return .failure(error)
        } catch {
            return .failure(PoolingError(String(describing: error)))
        }
    }

    /// Values in [0, 1] for display: min–max scaled, and with the threshold on, the patches
    /// outside the kept mass set to 0.
    public func displayValues(threshold: Float?) -> [Float] {
        var values = MapProcessing.minMax(result.map)
        if let mass = threshold {
            let kept = MapProcessing.threshold(result.map, mass: mass)
            for i in values.indices where !kept[i] { values[i] = 0 }
        }
        return values
    }
}
