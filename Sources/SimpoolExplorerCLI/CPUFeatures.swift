import Foundation
import Pooling
import Tensors

/// What `bench` reports about the processor: its name, the vector extensions it has, and
/// which of the engine's paths this process chose on it.
enum CPUFeatures {
    static var description: String {
        var parts: [String] = []
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if let name = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") })?.split(separator: ":", maxSplits: 1).last {
            parts.append(name.trimmingCharacters(in: .whitespaces))
        }
        let flags = Set(info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })?.split(separator: " ").map(String.init) ?? [])
        let interesting = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "asimd"].filter(flags.contains)
        if !interesting.isEmpty { parts.append("has " + interesting.joined(separator: " ")) }
        switch InstructionSet.current {
        case .avx512: parts.append("using AVX-512 (16-lane, 8×32 blocks)")
        case .avx2:
            let kept = flags.contains("avx512f") ? ", AVX-512 kept off by \(InstructionSet.environmentVariable)" : ""
            parts.append("using AVX2+FMA (8-lane, 6×16 blocks\(kept))")
        case .baseline: parts.append("using this architecture's default vectors")
        }
        parts.append(GMPPooling.usesBFloat16Gram ? "GMP Gram matrix in AVX-512 BF16" : "GMP Gram matrix in float (ssyrk)")
        return parts.joined(separator: "; ")
    }
}
