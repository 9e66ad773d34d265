import Foundation
import Tensors

/// DINOv3's rotary position embedding (`RopePositionEmbedding` with
/// `normalize_coords="separate"`, as its hub models use it): patch (r, c) of an h×w grid
/// sits at y = 2(r + ½)/h − 1, x = 2(c + ½)/w − 1; the head dimension D is split in halves,
/// each half [y/p₀ … y/p_{D/4−1}, x/p₀ … x/p_{D/4−1}]·2π, and dimension k is rotated
/// with k + D/2 by that angle (`x·cos + rotate_half(x)·sin`). Queries and keys of the
/// patch tokens are rotated; the prefix tokens are not. No position table: any grid works.
public struct RotaryEmbedding: Sendable, Equatable {
    /// D/4 periods, as `rope_embed.periods` stores them.
    public let periods: [Float]

    public init(periods: [Float]) { self.periods = periods }

    /// The periods transformers computes from `rope_theta`: θ^(4i/D), i < D/4.
    public init(theta: Double, headWidth: Int) {
        periods = (0..<(headWidth / 4)).map { Float(Foundation.pow(theta, 4 * Double($0) / Double(headWidth))) }
    }

    /// Rotates q and k of the patch tokens of `qkv` (`[T, 3·width]`) in place.
    func rotate(_ qkv: inout Tensor, width d: Int, heads: Int, prefix: Int, grid: (height: Int, width: Int)) {
        let headWidth = d / heads, half = headWidth / 2, quarter = headWidth / 4
        precondition(periods.count == quarter, "rope: \(periods.count) periods for heads of \(headWidth)")
        let patches = grid.height * grid.width
        precondition(qkv.shape[0] == prefix + patches)
        var cosines = [Float](repeating: 0, count: half), sines = [Float](repeating: 0, count: half)
        qkv.scalars.withUnsafeMutableBufferPointer { values in
            for patch in 0..<patches {
                let y = 2 * (Double(patch / grid.width) + 0.5) / Double(grid.height) - 1
                let x = 2 * (Double(patch % grid.width) + 0.5) / Double(grid.width) - 1
                for j in 0..<half {
                    let coordinate = j < quarter ? y : x
                    let angle = 2 * Double.pi * coordinate / Double(periods[j % quarter])
                    cosines[j] = Float(Foundation.cos(angle))
                    sines[j] = Float(Foundation.sin(angle))
                }
                let row = (prefix + patch) * 3 * d
                for part in 0..<2 {               // q, then k
                    for head in 0..<heads {
                        let base = row + part * d + head * headWidth
                        for j in 0..<half {
                            let a = values[base + j], b = values[base + j + half]
                            values[base + j] = a * cosines[j] - b * sines[j]
                            values[base + j + half] = b * cosines[j] + a * sines[j]
                        }
                    }
                }
            }
        }
    }
}
