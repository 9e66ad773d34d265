#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, the pinned third-party
# checkpoint some tests read, then `swift test`, then the install into a fresh prefix
# (Tools/check-install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh
Tools/fetch-downloads.sh
swift build --build-tests
swift test
Tools/check-install.sh
