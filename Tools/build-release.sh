#!/usr/bin/env bash
# Release build: exactly `swift build -c release` for the simpool-explorer product. Nothing
# is needed beyond it: Package.swift targets AVX2 + FMA on x86-64, and the kernels that use
# AVX-512 are chosen at run time where the CPU has it (see docs/ENGINE.md), so the binary
# built here runs on every x86-64-v3 CPU, whichever machine built it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product simpool-explorer
