/// Resampling of a learned position table to another patch grid, as the reference
/// implementations do it. Two conventions exist in the wild:
/// - `.bicubic`: PyTorch `F.interpolate(mode="bicubic", align_corners=False)` and ONNX
///   Runtime's cubic Resize: a = −0.75, half-pixel centres, edge samples repeated.
///   transformers' ViT, DeiT and DINOv2, CLIP, and the bundled model use it.
/// - `.antialiasedBicubic`: the same call with `antialias=True` (timm's default), which is
///   PIL's filter: a = −0.5, support widened when shrinking, weights renormalised at edges.
///   timm, and DINOv2's hub models with registers (`interpolate_antialias=True`, offset 0).
/// - `.bicubicWithOffset`: plain bicubic asked for by a scale factor of (n + 0.1) / M rather
///   than a size: DINO's and DINOv2's `interpolate_offset=0.1` (their hub models without
///   registers). PyTorch then maps output i to input (i + ½)·M / (n + 0.1) − ½, so the
///   samples sit slightly off those of `.bicubic`.
public enum PositionResampling: String, Sendable {
    case bicubic
    case antialiasedBicubic = "antialiased-bicubic"
    case bicubicWithOffset = "bicubic-offset-0.1"

    /// What each convention is, in `inspect`'s words.
    public var explanation: String {
        switch self {
        case .bicubic: return "bicubic to the grid's size, no antialias"
        case .antialiasedBicubic: return "bicubic to the grid's size with antialias"
        case .bicubicWithOffset: return "bicubic by scale factor (n + 0.1) / M, no antialias"
        }
    }

    /// `table`: `[sourceHeight·sourceWidth, channels]`, row-major grid. Returns the
    /// `[targetHeight·targetWidth, channels]` table.
    public func resample(_ table: [Float], channels: Int, from source: (height: Int, width: Int),
                         to target: (height: Int, width: Int)) -> [Float] {
        if source == target { return table }
        let rows = weights(input: source.height, output: target.height)
        let columns = weights(input: source.width, output: target.width)
        // Separable: columns first into [sourceHeight, targetWidth], then rows.
        var horizontal = [Float](repeating: 0, count: source.height * target.width * channels)
        for y in 0..<source.height {
            for x in 0..<target.width {
                let out = (y * target.width + x) * channels
                for (index, weight) in columns[x] {
                    let input = (y * source.width + index) * channels
                    for c in 0..<channels { horizontal[out + c] += weight * table[input + c] }
                }
            }
        }
        var result = [Float](repeating: 0, count: target.height * target.width * channels)
        for y in 0..<target.height {
            for (index, weight) in rows[y] {
                for x in 0..<target.width {
                    let out = (y * target.width + x) * channels
                    let input = (index * target.width + x) * channels
                    for c in 0..<channels { result[out + c] += weight * horizontal[input + c] }
                }
            }
        }
        return result
    }

    /// For each output index: (input index, weight) pairs.
    func weights(input: Int, output: Int) -> [[(Int, Float)]] {
        let scale = Double(input) / Double(output)
        switch self {
        case .bicubic, .bicubicWithOffset:
            let scale = self == .bicubic ? scale : Double(input) / (Double(output) + 0.1)
            return (0..<output).map { i in
                let center = (Double(i) + 0.5) * scale - 0.5
                let base = Int(center.rounded(.down))
                let t = center - Double(base)
                var taps: [Int: Double] = [:]
                for offset in -1...2 {
                    let w = PositionResampling.cubic(Double(offset) - t, a: -0.75)
                    let index = min(max(base + offset, 0), input - 1)
                    taps[index, default: 0] += w
                }
                return taps.sorted { $0.key < $1.key }.map { ($0.key, Float($0.value)) }
            }
        case .antialiasedBicubic:
            let filterScale = max(scale, 1)
            let support = 2 * filterScale
            return (0..<output).map { i in
                let center = (Double(i) + 0.5) * scale
                let start = max(Int(center - support + 0.5), 0)
                let end = min(Int(center + support + 0.5), input)
                var taps: [(Int, Double)] = []
                var total = 0.0
                for j in start..<max(start, end) {
                    let w = PositionResampling.cubic((Double(j) - center + 0.5) / filterScale, a: -0.5)
                    taps.append((j, w))
                    total += w
                }
                return taps.map { ($0.0, Float(total == 0 ? 0 : $0.1 / total)) }
            }
        }
    }

    static func cubic(_ distance: Double, a: Double) -> Double {
        let x = abs(distance)
        if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }
}
