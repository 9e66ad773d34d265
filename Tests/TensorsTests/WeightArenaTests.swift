import Testing
@testable import Tensors

/// The memory packed weights are cut from: aligned, zeroed, never shared between two
/// allocations, a large request in a chunk of its own, and each chunk returned once the
/// weights cut from it are gone.
struct WeightArenaTests {
    @Test func allocationsAreAlignedZeroedAndDisjoint() {
        let sizes = [1, 5, 16, 1000, 70_000, 3]
        let pieces = sizes.map { WeightArena.allocate(count: $0) }
        for ((_, values), count) in zip(pieces, sizes) {
            #expect(UInt(bitPattern: values) % 64 == 0)
            #expect((0..<count).allSatisfy { values[$0] == 0 })
            values.update(repeating: Float(count), count: count)
        }
        // Each piece still holds what was written into it: no two overlap.
        for ((_, values), count) in zip(pieces, sizes) {
            #expect((0..<count).allSatisfy { values[$0] == Float(count) })
        }
    }

    @Test func aLargeRequestGetsItsOwnChunkAlignedToAHugePage() {
        let count = WeightArena.chunkBytes / 4
        let (owner, values) = WeightArena.allocate(count: count)
        let (small, _) = WeightArena.allocate(count: 16)
        #expect(owner !== small)
        #expect(UInt(bitPattern: values) % UInt(WeightArena.hugePageBytes) == 0)
        values[count - 1] = 1
        #expect(values[count - 1] == 1)
    }

    @Test func aChunkIsReleasedWithTheLastWeightsInIt() {
        weak var released: WeightChunk?
        do {
            // 2304 × 2048 floats (18 MB, over half a chunk): a chunk of its own.
            let weights = PackedWeights(Tensor(shape: [2304, 2048], scalars: [Float](repeating: 1, count: 2304 * 2048)))
            #expect(weights.storage.allSatisfy { $0 == 1 })
            released = weights.owner
            #expect(released != nil)
            withExtendedLifetime(weights) {}
        }
        #expect(released == nil)
    }
}
