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

    public init(result: PoolingResult, gridHeight: Int, gridWidth: Int, methodText: String, milliseconds: Double) {
        self.result = result
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        self.methodText = methodText
        self.milliseconds = milliseconds
    }

    /// nil with a reason when the method cannot run on this layer.
    public static func compute(_ state: ExplorerState) -> Result<MapComputation, PoolingError>? {
        guard let result = state.current?.result else { return nil }
        return compute(trace: result.trace, specification: state.method, context: state.model.context,
                       layer: state.layer, head: state.head, isTransformer: state.model.isTransformer)
    }

    /// One method on one layer (0-based, clamped to the trace) and head of a trace.
    public static func compute(trace: Trace, specification: MethodCatalog.Specification, context: MethodCatalog.Context,
                               layer: Int, head: HeadSelection, isTransformer: Bool) -> Result<MapComputation, PoolingError> {
        let input = PoolingInput(trace: trace, layer: min(layer, trace.layers.count - 1), head: head, isTransformer: isTransformer)
        do {
            let method = try MethodCatalog.make(specification, context: context)
            let start = DispatchTime.now().uptimeNanoseconds
            let pooled = try method.pool(input)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            return .success(MapComputation(result: pooled, gridHeight: input.gridHeight ?? 1,
                                           gridWidth: input.gridWidth ?? input.tokenCount,
                                           methodText: method.specification, milliseconds: elapsed))
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
