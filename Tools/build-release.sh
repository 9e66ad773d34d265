#!/usr/bin/env bash
# Release build. The vector kernels (exp, erf, log, GELU, softmax, the convolution
# products) only compile to SIMD instructions when the compiler may target this CPU. On
# x86-64 machines with AVX2 and FMA (every x86 server of the last decade) that is Haswell's
# instruction set; where AVX-512 is there too, Skylake-AVX512's (which AMD's Zen 4 and
# later also run), and the convolutions use their wide kernel (SIMPOOL_WIDE_KERNEL: 8×32
# blocks in sixteen-lane registers instead of 6×16 in eight-lane ones).
set -euo pipefail
cd "$(dirname "$0")/.."
flags=()
if [ "$(uname -m)" = "x86_64" ]; then
    has() { grep -qw "$1" /proc/cpuinfo; }
    if has avx512f && has avx512bw && has avx512dq && has avx512vl && has fma; then
        flags=(-Xswiftc -target-cpu -Xswiftc skylake-avx512 -Xswiftc -DSIMPOOL_WIDE_KERNEL)
    elif has avx2 && has fma; then
        flags=(-Xswiftc -target-cpu -Xswiftc haswell)
    fi
fi
swift build -c release --product simpool-explorer "${flags[@]}"
