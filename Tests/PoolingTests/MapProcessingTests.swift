import Pooling
import Testing

/// Post-processing against small cases worked by hand.
struct MapProcessingTests {
    @Test func massThresholdKeepsTheStrongestPatchesLikeDINO() {
        // Sorted descending: 0.4, 0.3, 0.2, 0.1. Mass strictly above: 0, 0.4, 0.7, 0.9.
        let map: [Float] = [0.1, 0.4, 0.2, 0.3]
        #expect(MapProcessing.massAbove(map).map { ($0 * 10).rounded() / 10 } == [0.9, 0, 0.7, 0.4])
        #expect(MapProcessing.threshold(map, mass: 0.6) == [false, true, false, true])   // 0.4 + 0.3 crosses 0.6
        #expect(MapProcessing.threshold(map, mass: 0.4) == [false, true, false, false])
        #expect(MapProcessing.threshold(map, mass: 1.0) == [true, true, true, true])
        #expect(MapProcessing.massNormalized(map)[1] == 1)
    }

    @Test func tiesAreKeptTogether() {
        // 0.4 first, then three patches of 0.2 share the mass above them (0.4).
        #expect(MapProcessing.massAbove([0.2, 0.4, 0.2, 0.2]).map { ($0 * 10).rounded() / 10 } == [0.4, 0, 0.4, 0.4])
        #expect(MapProcessing.threshold([0.25, 0.25, 0.25, 0.25], mass: 0.5) == [true, true, true, true])
    }

    @Test func minMaxAndFlatMaps() {
        #expect(MapProcessing.minMax([2, 4, 3]) == [0, 1, 0.5])
        #expect(MapProcessing.minMax([0.25, 0.25]) == [0, 0])
    }

    @Test func nearestUpsamplingRepeatsPatchesOnNonSquareGrids() {
        // A 1×2 grid to 2×4 pixels.
        let up = MapProcessing.nearest([1, 2], gridHeight: 1, gridWidth: 2, height: 2, width: 4)
        #expect(up == [1, 1, 2, 2, 1, 1, 2, 2])
    }

    @Test func bilinearUsesHalfPixelCentres() {
        // 1×2 → 1×4, as torch's F.interpolate(bilinear, align_corners=False):
        // source x = (i + 0.5)/2 − 0.5 → −0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped high).
        let up = MapProcessing.bilinear([0, 4], gridHeight: 1, gridWidth: 2, height: 1, width: 4)
        #expect(up == [0, 1, 3, 4])
    }
}
