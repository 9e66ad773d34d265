#!/usr/bin/env bash
# Release build: `swift build -c release`, which Package.swift already points at AVX2 + FMA
# on x86-64 (a binary for every x86-64 server and laptop of the last decade).
#
#   Tools/build-release.sh            the portable binary (AVX2 + FMA)
#   Tools/build-release.sh --native   on a CPU with AVX-512: the convolutions' wide kernel
#                                     (8×32 blocks in sixteen-lane registers) and AVX-512
#                                     code throughout; that binary runs only on such CPUs
set -euo pipefail
cd "$(dirname "$0")/.."
flags=()
if [ "${1:-}" = "--native" ] && [ "$(uname -m)" = "x86_64" ]; then
    has() { grep -qw "$1" /proc/cpuinfo; }
    if has avx512f && has avx512bw && has avx512dq && has avx512vl && has fma; then
        flags=(-Xswiftc -target-cpu -Xswiftc skylake-avx512 -Xswiftc -DSIMPOOL_WIDE_KERNEL)
    else
        echo "build-release.sh: no AVX-512 on this CPU; building the portable binary" >&2
    fi
fi
swift build -c release --product simpool-explorer "${flags[@]}"
