#!/bin/bash
# Installs what xvm needs, builds it, and runs a VM through its lifecycle
# with the xvm command line: install from a template, start, look at it,
# shut it down, uninstall.
#   scripts/demo.sh [URI]     (default: sim:///tmp/xvm-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
uri=${1:-sim:///tmp/xvm-demo}
scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized
ninja -C build
xvm() { build/frontends/cli/xvm -c "$uri" "$@"; }
set -x
vm=$(xvm vm-install template="sim test" new-name-label=demo)
xvm vm-start uuid="$vm"
xvm vm-list
xvm vm-param-get uuid="$vm" param-name=power-state
xvm vm-shutdown uuid="$vm"
xvm vm-uninstall uuid="$vm" --force
