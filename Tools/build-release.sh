#!/usr/bin/env bash
# Release build. The vector kernels (exp, erf, log, GELU, softmax) only compile to SIMD
# instructions when the compiler may target this CPU; on x86-64 machines with AVX2 and FMA
# (every x86 server of the last decade) that is Haswell's instruction set.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=()
if [ "$(uname -m)" = "x86_64" ] && grep -q avx2 /proc/cpuinfo && grep -q fma /proc/cpuinfo; then
    flags=(-Xswiftc -target-cpu -Xswiftc haswell)
fi
swift build -c release --product simpool-explorer "${flags[@]}"
