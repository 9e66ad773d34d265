#!/usr/bin/env bash
# Builds the release binary (tuned for this CPU) and opens the explorer on the bundled
# sample images with the default model. Extra arguments go to simpool-explorer
# (image paths, --method, --color …).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh
Tools/build-release.sh
exec .build/release/simpool-explorer "$@"
