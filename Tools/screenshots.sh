#!/usr/bin/env bash
# The README's pictures, from the real binary: the explorer on a sample photo under tmux in
# 24-bit colour (the side view, the heads grid, a patch query), each screen captured with
# `tmux capture-pane -e` and drawn by Tools/ansi_to_png.py (Pillow) into docs/images/; and
# `render` in each cell and pixel mode (the pixel ones composed by Tools/pixels_to_png.py).
#
#   Tools/screenshots.sh            after a release build (Tools/build-release.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=.build/release/simpool-explorer
[ -x "$binary" ] || { echo "screenshots.sh: build first (Tools/build-release.sh)" >&2; exit 1; }
python="python3"
[ -x Tools/.venv/bin/python ] && python=Tools/.venv/bin/python
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
shot() {   # shot NAME KEYS...
    local name="$1"; shift
    local socket="simpool-screens-$$-$name"
    tmux -L "$socket" new-session -d -x 132 -y 40 \
        "env TERM=xterm-256color COLORTERM=truecolor XDG_CACHE_HOME=$cache LANG=C.UTF-8 $binary Samples/images/owl.jpg; sleep 60"
    for _ in $(seq 1 100); do
        tmux -L "$socket" capture-pane -p | grep -q "fwd " && break
        sleep 0.2
    done
    for key in "$@"; do tmux -L "$socket" send-keys "$key"; sleep 0.5; done
    sleep 1
    tmux -L "$socket" capture-pane -p -e > "$cache/$name.ansi"
    tmux -L "$socket" kill-server 2>/dev/null || true
    "$python" Tools/ansi_to_png.py "$cache/$name.ansi" "docs/images/$name.png"
}
mkdir -p docs/images
shot explorer
shot heads-grid g
shot patch-query p Left Left Up Up
still() {   # still NAME RENDER-OPTIONS...
    local name="$1"; shift
    env LANG=C.UTF-8 "$binary" render Samples/images/owl.jpg --color truecolor --width 100 "$@" > "$cache/$name.txt"
    case "$*" in
        *"--pixels kitty"*|*"--pixels sixel"*) "$python" Tools/pixels_to_png.py "$cache/$name.txt" "docs/images/$name.png" ;;
        *) "$python" Tools/ansi_to_png.py "$cache/$name.txt" "docs/images/$name.png" ;;
    esac
}
still cells-half --symbols half --pixels off
still cells-sextant --symbols sextant --pixels off
still pixels-kitty --pixels kitty
still pixels-sixel --pixels sixel
