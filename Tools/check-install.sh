#!/usr/bin/env bash
# The install, as a newcomer would use it: Tools/install.sh into a fresh, empty prefix, the
# installed binary run from another folder (it must find its bundled model), its man page,
# then --uninstall, which must leave the prefix empty. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
prefix="$(mktemp -d)"
elsewhere="$(mktemp -d)"
trap 'rm -rf "$prefix" "$elsewhere"' EXIT
passed=0
failed=0
check() {   # check DESCRIPTION COMMAND...
    local what="$1"; shift
    if "$@" > "$elsewhere/last.log" 2>&1; then
        passed=$((passed + 1)); echo "ok: $what"
    else
        failed=$((failed + 1)); echo "FAILED: $what"; tail -5 "$elsewhere/last.log"
    fi
}
check "install.sh --prefix into an empty folder" Tools/install.sh --prefix "$prefix"
check "the installed binary renders from another folder" \
    bash -c "cd '$elsewhere' && '$prefix/bin/simpool-explorer' render '$root/Samples/images/owl.jpg' --color none --width 40 | grep -q 'owl.jpg | dinov2-vits14'"
check "--version names the version and commit" bash -c "'$prefix/bin/simpool-explorer' --version | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]+\)$'"
if command -v man > /dev/null; then
    check "man -M PREFIX/share/man shows the page" bash -c "man -M '$prefix/share/man' simpool-explorer | grep -q 'simpool-explorer'"
else
    check "the man page is installed" grep -q '^\.Nm simpool-explorer' "$prefix/share/man/man1/simpool-explorer.1"
fi
check "bash completion installed" test -s "$prefix/share/bash-completion/completions/simpool-explorer"
check "install.sh --uninstall" Tools/install.sh --prefix "$prefix" --uninstall
check "nothing is left in the prefix" bash -c "[ -z \"\$(find '$prefix' -mindepth 1)\" ]"
echo "install: $passed passed, $failed failed"
[ "$failed" = 0 ]
