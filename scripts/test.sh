#!/bin/bash
# Installs what xvm needs, builds it in a fresh directory and runs every test.
#   scripts/test.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/install-deps.sh
rm -rf "$build"
meson setup "$build" --buildtype=debugoptimized
ninja -C "$build"
meson test -C "$build" --print-errorlogs --num-processes 2
