import Explorer
import Testing

/// Jaccard and CorLoc on masks worked by hand.
struct MaskMetricsTests {
    /// A width×height mask with the given rectangle set.
    static func rectangle(width: Int, height: Int, left: Int, top: Int, right: Int, bottom: Int) -> [Bool] {
        (0..<(width * height)).map { i in
            let (y, x) = (i / width, i % width)
            return x >= left && x < right && y >= top && y < bottom
        }
    }

    @Test func jaccardOfOverlappingRectangles() {
        // 4×4 in 8×8 at (0,0) and (2,2): overlap 2×2 = 4, union 16 + 16 − 4 = 28.
        let a = Self.rectangle(width: 8, height: 8, left: 0, top: 0, right: 4, bottom: 4)
        let b = Self.rectangle(width: 8, height: 8, left: 2, top: 2, right: 6, bottom: 6)
        #expect(MaskMetrics.jaccard(a, b) == 4.0 / 28)
        #expect(MaskMetrics.jaccard(a, a) == 1)
        #expect(MaskMetrics.jaccard([false, false], [false, false]) == 1)
    }

    @Test func largestRegionAndCorLoc() {
        // Two regions: a 1×2 at the top left and a 3×3 at (4,4); the larger one's box counts.
        var mask = Self.rectangle(width: 8, height: 8, left: 4, top: 4, right: 7, bottom: 7)
        mask[0] = true
        mask[1] = true
        #expect(MaskMetrics.largestRegionBox(mask, width: 8, height: 8) == .init(left: 4, top: 4, right: 7, bottom: 7))
        // Object 4×3 at (4,4): IoU with the 3×3 box = 9 / 12 = 0.75 → a hit.
        let object = Self.rectangle(width: 8, height: 8, left: 4, top: 4, right: 8, bottom: 7)
        #expect(MaskMetrics.corLocHit(prediction: mask, truth: object, width: 8, height: 8))
        // Object at the other corner: no overlap → a miss.
        let elsewhere = Self.rectangle(width: 8, height: 8, left: 0, top: 0, right: 2, bottom: 2)
        #expect(!MaskMetrics.corLocHit(prediction: mask, truth: elsewhere, width: 8, height: 8))
        // Diagonal neighbours are not 4-connected.
        #expect(MaskMetrics.largestRegionBox([true, false, false, true], width: 2, height: 2) == .init(left: 0, top: 0, right: 1, bottom: 1))
    }

    @Test func thresholdedPredictionOnAMapWorkedByHand() {
        // A 2×2 map [0.1, 0.2, 0.3, 0.4] on a 4×4 mask: mass 0.5 keeps 0.4 and 0.3 (the
        // bottom half); against a bottom-half object the Jaccard index is exactly 1.
        let prediction = MaskMetrics.prediction([0.1, 0.2, 0.3, 0.4], gridHeight: 2, gridWidth: 2, width: 4, height: 4, mass: 0.5)
        let bottom = Self.rectangle(width: 4, height: 4, left: 0, top: 2, right: 4, bottom: 4)
        #expect(MaskMetrics.jaccard(prediction, bottom) == 1)
        // Against the bottom-right quarter: 4 / 8.
        let quarter = Self.rectangle(width: 4, height: 4, left: 2, top: 2, right: 4, bottom: 4)
        #expect(MaskMetrics.jaccard(prediction, quarter) == 0.5)
    }
}
