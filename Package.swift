// swift-tools-version:6.0
import PackageDescription

/// The instruction set every build targets. On x86-64 it is Haswell's (AVX2, FMA: every
/// x86 server and laptop of the last decade), so that a plain `swift build -c release`
/// compiles the vector kernels (exp, erf, GELU, softmax, the convolution products) to SIMD
/// instructions rather than scalar calls; the binary then needs such a CPU. Elsewhere
/// (arm64) the compiler's default, which already has NEON.
#if arch(x86_64)
let targetCPU: [String] = ["-target-cpu", "haswell"]
#else
let targetCPU: [String] = []
#endif

/// The numeric modules are compiled with optimisation even in debug builds: unoptimised
/// Swift loops make a forward pass 30× slower, which the test suite would pay many times.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"] + targetCPU)]

/// One module per job; dependencies point downward (see docs/ARCHITECTURE.md).
let package = Package(
    name: "simpool-explorer",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "simpool-explorer", targets: ["simpool-explorer"]),
        .executable(name: "gemm-benchmark", targets: ["gemm-benchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CNcurses",
            providers: [.apt(["libncurses-dev"])]
        ),
        // libpng and libjpeg report errors by longjmp, which Swift cannot catch, so the
        // calls into them live in a few lines of C that turn errors into return codes.
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),

        // A software prefetch for the convolution kernel, which Swift cannot spell.
        .target(name: "CKernelSupport"),
        // The wide convolution kernel, built for AVX-512 and for the baseline, chosen at run time.
        .target(name: "CWideKernel", cSettings: [.unsafeFlags(["-O2"])]),
        // GMP's preconditioner Gram matrix from AVX-512 BF16 dot products (intrinsics, chosen
        // at run time where the CPU has them).
        .target(name: "CBFloat16Gram", cSettings: [.unsafeFlags(["-O2"])]),

        // Libraries.
        .target(name: "Tensors", dependencies: ["CBLAS", "CKernelSupport", "CWideKernel"], swiftSettings: optimized),
        .target(name: "Checkpoints", dependencies: ["Tensors"], swiftSettings: optimized),
        .target(name: "Backbones", dependencies: ["Tensors", "Checkpoints"], swiftSettings: optimized),
        .target(name: "Pooling", dependencies: ["Tensors", "CBLAS", "CBFloat16Gram"], swiftSettings: optimized),
        .target(name: "Imaging", dependencies: ["CImageCodecs"], swiftSettings: optimized),
        .target(name: "TerminalCanvas", dependencies: ["Imaging"], swiftSettings: optimized),
        .target(name: "ModelRuntime", dependencies: ["Backbones", "Checkpoints", "Imaging", "Pooling"]),
        .target(name: "Explorer", dependencies: ["Tensors", "Backbones", "Imaging", "Pooling", "TerminalCanvas", "ModelRuntime", "Checkpoints"],
                swiftSettings: optimized),
        .target(
            name: "SimpoolExplorerCLI",
            dependencies: [
                "Tensors", "Checkpoints", "Backbones", "Imaging", "ModelRuntime", "Pooling", "TerminalCanvas", "Explorer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The executable is only the entry point; commands live in SimpoolExplorerCLI so
        // that tests can run them in-process.
        .executableTarget(name: "simpool-explorer", dependencies: ["SimpoolExplorerCLI", "Explorer", "TerminalCanvas", "CNcurses", "Tensors"]),

        // Benchmarks (not tests: they print numbers, they assert nothing).
        .executableTarget(name: "simpool-fuzz", dependencies: ["Checkpoints", "Imaging"]),
        .executableTarget(name: "gemm-benchmark", dependencies: ["Tensors"], path: "Benchmarks/GEMMBenchmark"),

        // Tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Tensors", "TestSupport"]),
        .testTarget(name: "BackbonesTests", dependencies: ["Backbones", "Checkpoints", "Tensors", "Imaging", "ModelRuntime", "Pooling", "TestSupport"]),
        .testTarget(name: "PoolingTests", dependencies: ["Pooling", "Tensors", "Checkpoints", "TestSupport"]),
        .testTarget(name: "ExplorerTests", dependencies: ["Explorer", "TerminalCanvas", "Backbones", "Checkpoints", "Imaging", "Pooling",
                                                         "ModelRuntime", "Tensors", "TestSupport"]),
        .testTarget(name: "TerminalCanvasTests", dependencies: ["TerminalCanvas", "Imaging", "TestSupport"]),
        .testTarget(name: "RobustnessTests", dependencies: ["Checkpoints", "Imaging", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["SimpoolExplorerCLI", "Explorer", "Imaging", "ModelRuntime", "Pooling",
                                                     "TerminalCanvas", "Checkpoints", "TestSupport"]),
    ]
)
