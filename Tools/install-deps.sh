#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, and says which. Packages
# already present are left alone; nothing is installed when all are there.
#   libopenblas-dev   matrix products (BLAS) and linear solves (LAPACK)
#   libpng-dev        PNG decoding and encoding
#   libjpeg-dev       JPEG decoding (libjpeg-turbo)
#   libncurses-dev    the terminal interface (ncursesw)
#   pkg-config        lets the Swift build find OpenBLAS's headers
#   python3-pip       fetches the pinned third-party weight files some tests read
#   tmux              drives the terminal interface in end-to-end tests
#   libsixel-bin      sixel2png, libsixel's decoder, checks the sixel output
set -euo pipefail

packages=(libopenblas-dev libpng-dev libjpeg-dev libncurses-dev pkg-config python3-pip tmux libsixel-bin)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "Swift 6 is needed and is not on PATH: install a toolchain from swift.org, then rerun." >&2
    exit 1
fi
