import Tensors

extension WeightSource {
    /// `name.weight` followed by the batch norm `bn` (weight, bias, running mean/var).
    func convolution(_ name: String, batchNorm bn: String, eps: Float, stride: Int,
                     padding: Convolution.Padding, depthwise: Bool = false) throws -> Convolution {
        let weight = try tensor(name + ".weight")
        let channels = weight.shape[0]
        let norm = (weight: try tensor(bn + ".weight", shape: [channels]), bias: try tensor(bn + ".bias", shape: [channels]),
                    mean: try tensor(bn + ".running_mean", shape: [channels]),
                    variance: try tensor(bn + ".running_var", shape: [channels]))
        if has(bn + ".num_batches_tracked") { _ = try tensor(bn + ".num_batches_tracked") }
        return Convolution(weight: weight, convBias: try optional(name + ".bias", shape: [channels]), batchNorm: norm,
                           eps: eps, stride: stride, padding: padding, depthwise: depthwise)
    }
}
