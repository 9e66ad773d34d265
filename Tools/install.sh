#!/usr/bin/env bash
# Installs simpool-explorer: the release binary, the bundled model, labels and sample
# images it opens by default, a man page and bash / zsh / fish completions.
#
#   Tools/install.sh [--prefix DIR]              default DIR: ~/.local
#   Tools/install.sh [--prefix DIR] --uninstall  removes exactly the files it installed
#   Tools/install.sh ... --binary PATH           install PATH instead of building the release
#
# Every file installed is listed in DIR/share/simpool-explorer/installed-files.txt, which
# --uninstall reads. Nothing outside DIR is written.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$HOME/.local"
uninstall=0
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
share="$prefix/share/simpool-explorer"
manifest="$share/installed-files.txt"

if [ "$uninstall" = 1 ]; then
    [ -f "$manifest" ] || { echo "install.sh: nothing installed in $prefix (no $manifest)" >&2; exit 1; }
    while IFS= read -r file; do
        [ -n "$file" ] || continue
        rm -f "$prefix/$file"
        echo "removed $prefix/$file"
        # The folders it leaves empty go too, up to the prefix.
        dir="$(dirname "$prefix/$file")"
        while [ "$dir" != "$prefix" ] && rmdir "$dir" 2>/dev/null; do dir="$(dirname "$dir")"; done
    done < "$manifest"
    exit 0
fi

if [ -z "$binary" ]; then
    Tools/install-deps.sh
    swift build -c release --product simpool-explorer
    binary=.build/release/simpool-explorer
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

installed=()
put() {   # put SOURCE RELATIVE-DESTINATION [MODE]
    mkdir -p "$(dirname "$prefix/$2")"
    install -m "${3:-644}" "$1" "$prefix/$2"
    installed+=("$2")
    echo "installed $prefix/$2"
}

put "$binary" bin/simpool-explorer 755
for file in Samples/models/* Samples/images/* Samples/imagenet_labels.txt Samples/LICENSES.md; do
    put "$file" "share/simpool-explorer/${file#Samples/}"
done
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || true)"
if [ -n "$commit" ]; then
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    echo "$commit" > "$scratch/commit"
    put "$scratch/commit" share/simpool-explorer/commit
fi

# The man page from the command line's own description (swift-argument-parser's plugin).
manual="$(mktemp -d)"
if swift package --allow-writing-to-directory "$manual" generate-manual --output-directory "$manual" >/dev/null 2>&1 \
        && [ -f "$manual/simpool-explorer.1" ]; then
    put "$manual/simpool-explorer.1" share/man/man1/simpool-explorer.1
else
    echo "install.sh: the man page could not be generated (swift package generate-manual); skipped" >&2
fi
rm -rf "$manual"

completions="$(mktemp -d)"
"$prefix/bin/simpool-explorer" --generate-completion-script bash > "$completions/bash"
"$prefix/bin/simpool-explorer" --generate-completion-script zsh > "$completions/zsh"
"$prefix/bin/simpool-explorer" --generate-completion-script fish > "$completions/fish"
put "$completions/bash" share/bash-completion/completions/simpool-explorer
put "$completions/zsh" share/zsh/site-functions/_simpool-explorer
put "$completions/fish" share/fish/vendor_completions.d/simpool-explorer.fish
rm -rf "$completions"

printf '%s\n' "${installed[@]}" "share/simpool-explorer/installed-files.txt" > "$manifest"
echo "installed $manifest"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
