#!/usr/bin/env bash
# Runs libFuzzer (with AddressSanitizer and leak detection) on every reader that takes
# files from strangers: checkpoints (safetensors, PyTorch zip, legacy pickles), .npy and
# images. Seed corpora come from the test fixtures; findings land in .build-fuzz/findings/.
#
#   Tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]     default: 600 s, all targets
#
# A finding is replayed with the plain build: swift run simpool-fuzz TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(checkpoint npy image)

swift build -c release --product simpool-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING >&2
binary=.build-fuzz/release/simpool-fuzz

seed() {   # target → fixture files for its seed corpus
    case "$1" in
        checkpoint) find Tests/Fixtures/checkpoints Tests/Fixtures/backbones -type f \( -name '*.pt' -o -name '*.pth' -o -name '*.tar' -o -name '*.bin' -o -name '*.safetensors' \) -size -2048k ;;
        npy) find Tests/Fixtures -name '*.npy' -size -1024k ;;
        image) find Tests/Fixtures/images -type f ! -name '*.rgb' ! -name '*.json' -size -1024k ;;
    esac
}

mkdir -p .build-fuzz/findings
for target in "${targets[@]}"; do
    corpus=.build-fuzz/corpus/$target
    mkdir -p "$corpus"
    seed "$target" | while read -r file; do cp -n "$file" "$corpus/" 2>/dev/null || true; done
    dictionary=()
    [ -f "Tools/fuzz/$target.dict" ] && dictionary=(-dict="Tools/fuzz/$target.dict")
    echo "== $target: $(ls "$corpus" | wc -l) seeds, ${seconds}s${dictionary:+, dictionary Tools/fuzz/$target.dict}" >&2
    SIMPOOL_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=1 "$binary" "$corpus" "${dictionary[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
        -artifact_prefix=.build-fuzz/findings/"$target"- -print_final_stats=1 2>&1 \
        | grep -E "^(#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY|INFO: Running|artifact_prefix)|Done [0-9]+ runs" || true
    echo "   corpus now $(ls "$corpus" | wc -l) files" >&2
done
if ls .build-fuzz/findings/* >/dev/null 2>&1; then
    echo "findings:" >&2; ls .build-fuzz/findings >&2; exit 1
fi
echo "no findings" >&2
