/// Turning an attention map into what is shown or thresholded.
public enum MapProcessing {
    /// Rescaled to [0, 1] (all zeros when the map is flat).
    public static func minMax(_ map: [Float]) -> [Float] {
        guard let low = map.min(), let high = map.max(), high > low else {
            return [Float](repeating: 0, count: map.count)
        }
        return map.map { ($0 - low) / (high - low) }
    }

    /// Mass of the patches strictly stronger than each patch: the patches kept at mass F
    /// are those with a value below F, the strongest ones first as DINO keeps them. Equal
    /// values share one rank, so ties are kept or dropped together (a uniform map keeps
    /// everything rather than an arbitrary half).
    public static func massAbove(_ map: [Float]) -> [Float] {
        let total = map.reduce(0.0) { $0 + Double($1) }
        guard total > 0 else { return [Float](repeating: 0, count: map.count) }
        let order = map.indices.sorted { map[$0] > map[$1] }
        var result = [Float](repeating: 0, count: map.count)
        var above = 0.0
        var start = 0
        while start < order.count {
            var end = start
            var group = 0.0
            while end < order.count && map[order[end]] == map[order[start]] {
                group += Double(map[order[end]])
                end += 1
            }
            for k in start..<end { result[order[k]] = Float(above / total) }
            above += group
            start = end
        }
        return result
    }

    /// Mass normalisation for display: 1 for the strongest patch, falling to the share of
    /// attention held by the weaker ones, so equal colours mean equal attention mass.
    public static func massNormalized(_ map: [Float]) -> [Float] {
        massAbove(map).map { 1 - $0 }
    }

    /// DINO's threshold: keep the patches that together hold fraction `mass` of the
    /// attention (the strongest ones, including the one that crosses the fraction).
    public static func threshold(_ map: [Float], mass: Float) -> [Bool] {
        massAbove(map).map { $0 < mass }
    }

    /// Nearest-neighbour upsampling (each patch a block of pixels): honest about resolution.
    public static func nearest(_ map: [Float], gridHeight: Int, gridWidth: Int, height: Int, width: Int) -> [Float] {
        precondition(map.count == gridHeight * gridWidth)
        var result = [Float](repeating: 0, count: height * width)
        for y in 0..<height {
            let gy = min(gridHeight - 1, y * gridHeight / height)
            for x in 0..<width {
                result[y * width + x] = map[gy * gridWidth + min(gridWidth - 1, x * gridWidth / width)]
            }
        }
        return result
    }

    /// Bilinear upsampling with half-pixel centres and edge clamping, as PyTorch's
    /// `F.interpolate(mode="bilinear", align_corners=False)`.
    public static func bilinear(_ map: [Float], gridHeight: Int, gridWidth: Int, height: Int, width: Int) -> [Float] {
        precondition(map.count == gridHeight * gridWidth)
        func taps(_ output: Int, _ size: Int, _ input: Int) -> (Int, Int, Float) {
            let source = max(0, (Double(output) + 0.5) * Double(input) / Double(size) - 0.5)
            let low = min(Int(source), input - 1)
            let high = min(low + 1, input - 1)
            return (low, high, Float(source - Double(low)))
        }
        var result = [Float](repeating: 0, count: height * width)
        let columns = (0..<width).map { taps($0, width, gridWidth) }
        for y in 0..<height {
            let (y0, y1, fy) = taps(y, height, gridHeight)
            for x in 0..<width {
                let (x0, x1, fx) = columns[x]
                let top = map[y0 * gridWidth + x0] * (1 - fx) + map[y0 * gridWidth + x1] * fx
                let bottom = map[y1 * gridWidth + x0] * (1 - fx) + map[y1 * gridWidth + x1] * fx
                result[y * width + x] = top * (1 - fy) + bottom * fy
            }
        }
        return result
    }
}
