import CWideKernel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The vector instructions the engine's own kernels use, chosen once when the program
/// starts from what the CPU has.
///
/// The binary is compiled for AVX2 + FMA on x86-64 (`Package.swift`); the kernels that gain
/// from AVX-512 (the wide convolution and linear-layer kernel, GMP's bfloat16 Gram matrix)
/// are C compiled for it as well and called only where the CPU runs it. So one binary built
/// on any machine runs on every x86-64-v3 CPU and uses AVX-512 where there is one.
///
/// `SIMPOOL_ISA=avx2` keeps AVX-512 off on a CPU that has it: to compare the two paths on
/// one machine, and for the tests that check they agree. (OpenBLAS chooses its own kernels;
/// its `OPENBLAS_CORETYPE=Haswell` does the same for it.)
public enum InstructionSet: String, Sendable {
    case avx512 = "AVX-512"
    case avx2 = "AVX2+FMA"
    /// Not x86-64: the compiler's default vectors (NEON on arm64).
    case baseline = "baseline"

    /// The environment variable that can keep AVX-512 off.
    public static let environmentVariable = "SIMPOOL_ISA"

    /// What `SIMPOOL_ISA` asks for, when it is set.
    public static let requested: String? = getenv(environmentVariable).map { String(cString: $0) }

    /// The values `SIMPOOL_ISA` takes: `avx2`, or `auto` (the default, as if unset).
    public static let requestValues = ["avx2", "auto"]

    /// A `SIMPOOL_ISA` value that is none of those (then ignored), for one line of warning.
    public static var unknownRequest: String? {
        guard let requested, !requestValues.contains(requested.lowercased()) else { return nil }
        return requested
    }

    /// What this process uses.
    public static let current: InstructionSet = {
        #if arch(x86_64)
        return spx_cpu_has_avx512() != 0 && requested?.lowercased() != "avx2" ? .avx512 : .avx2
        #else
        return .baseline
        #endif
    }()

    /// Whether AVX-512's own instructions may run (the CPU has them and they are not kept off).
    public static var usesAVX512: Bool { current == .avx512 }

    /// The build of the wide kernel that runs here: AVX-512, or the same C for the
    /// binary's baseline (correct everywhere, slow: the tests run it on every machine).
    static let wideBlock: spx_wide_block_function = usesAVX512 ? spx_wide_block_avx512 : spx_wide_block_portable
}
