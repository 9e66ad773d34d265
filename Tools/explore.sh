#!/usr/bin/env bash
# Builds the release binary (tuned for this CPU) and opens it on the bundled samples with
# the default model. Until the terminal explorer lands this lists the bundled model and
# runs it, and every pooling method, on a sample photo.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh
Tools/build-release.sh
.build/release/simpool-explorer models
exec .build/release/simpool-explorer bench --repeats 5 "$@"
