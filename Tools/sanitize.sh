#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its own build
# folder. Slower than the plain suite (about 3-5 minutes each on two cores), so CI runs the
# plain suite and this script is run by hand before a release.
#
#   Tools/sanitize.sh [address|thread]…     default: both
#   Tools/sanitize.sh thread --filter ParallelTests    extra arguments go to `swift test`
#
# Known: under ThreadSanitizer the full-disk test (a file-size limit on the child process)
# fails because the sanitizer's own runtime dies with SIGBUS under that limit.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=()
while [ $# -gt 0 ] && { [ "$1" = address ] || [ "$1" = thread ]; }; do sanitizers+=("$1"); shift; done
[ ${#sanitizers[@]} -eq 0 ] && sanitizers=(address thread)
./Tools/install-deps.sh
./Tools/fetch-downloads.sh
for sanitizer in "${sanitizers[@]}"; do
    echo "== swift test --sanitize=$sanitizer" >&2
    # Leaks are checked by the fuzzers; here ASan looks for memory errors.
    ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS=halt_on_error=1 \
        swift test --sanitize="$sanitizer" --scratch-path ".build-$sanitizer" "$@"
done
