import Testing
@testable import Tensors

/// `transposed()` against its definition, element by element: shapes smaller than, equal to
/// and around its 8×8 register blocks, and a stage-sized map split across two threads.
struct TransposeTests {
    @Test(arguments: [(1, 1), (3, 5), (8, 8), (9, 7), (16, 24), (17, 33), (64, 3136), (2048, 49)], [1, 2])
    func everyElementLandsAtItsMirrorPosition(shape: (Int, Int), threads: Int) {
        let previous = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previous) }
        let (rows, columns) = shape
        let matrix = Tensor(shape: [rows, columns], scalars: (0..<(rows * columns)).map(Float.init))
        let result = matrix.transposed()
        #expect(result.shape == [columns, rows])
        var misplaced = 0
        for c in 0..<columns {
            for r in 0..<rows where result.scalars[c * rows + r] != Float(r * columns + c) { misplaced += 1 }
        }
        #expect(misplaced == 0)
    }
}
