/// A fixed-seed linear congruential generator (Knuth's MMIX constants, the top 53 bits of
/// the state per draw), so that a test's made-up data, and any failure, replay exactly.
public struct SeededGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }

    /// Uniform in 0..<bound (0 when bound < 1).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    /// Uniform in [−1, 1).
    public mutating func uniform() -> Double { Double(next()) / Double(1 << 53) * 2 - 1 }
}
