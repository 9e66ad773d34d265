@testable import Pooling
import Tensors
import Testing
import TestSupport

/// Rollout's discard picks the smallest entries by selection, not sorting: the same
/// entries a stable sort would pick, ties included.
struct RolloutSelectionTests {
    @Test(arguments: [1, 7, 64, 1000], [0.1, 0.5, 0.9, 0.99])
    func selectionFindsTheRankedValue(count: Int, fraction: Double) {
        var random = SeededGenerator(seed: UInt64(count) * 31 + UInt64(fraction * 100))
        // Values on a coarse grid, so that ties are common.
        let values = (0..<count).map { _ in Float(random.next() % 12) / 4 }
        let rank = min(count - 1, Int(Double(count) * fraction))
        #expect(RolloutPooling.selectSmallest(values, rank: rank) == values.sorted()[rank])
    }

    @Test func discardZeroesWhatAStableSortWouldPick() {
        var random = SeededGenerator(seed: 5)
        let heads = 2, tokens = 9
        let scalars = (0..<(heads * tokens * tokens)).map { _ in Float(random.next() % 5) / 8 }
        let attention = Tensor(shape: [heads, tokens, tokens], scalars: scalars)
        for discard in [0.3, 0.6, 0.9] {
            let fused = RolloutPooling(discard: discard, fusion: .max).fusedMatrix(attention)
            let plain = RolloutPooling(fusion: .max).fusedMatrix(attention)
            let order = (0..<plain.count).sorted { (a: Int, b: Int) -> Bool in
                plain[a] < plain[b] || (plain[a] == plain[b] && a < b)
            }
            var expected = plain
            for index in order.prefix(Int(Double(plain.count) * discard)) where index != 0 { expected[index] = 0 }
            #expect(fused == expected, "discard \(discard)")
        }
    }
}
