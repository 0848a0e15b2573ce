#!/bin/bash
# Installs what xvm needs, builds it, and runs a real VM on the embedded
# default (local:///var/lib/xvm, QEMU): install the "xvm test guest" template
# (the project's test guest on a disk of its own in "Local storage"), give it a
# second disk, boot it from its disk through SeaBIOS, show its console,
# snapshot the disk while it runs, shut it down cleanly (ACPI), and
# uninstall it with its disks.
#   scripts/demo.sh [URI]     (default: local:///var/lib/xvm)
set -euo pipefail
cd "$(dirname "$0")/.."
uri=${1:-local:///var/lib/xvm}
# The test guest boots in a fraction of a second under QEMU's TCG: the demo
# behaves the same on machines whose /dev/kvm is missing or slow.
export XVM_QEMU_ACCEL=${XVM_QEMU_ACCEL:-tcg}
scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized
ninja -C build
xvm() { build/frontends/cli/xvm -c "$uri" "$@"; }
set -x
vm=$(xvm vm-install template="xvm test guest" new-name-label=demo)
xvm vm-param-set uuid="$vm" VCPUs-at-startup=2
disk=$(xvm vm-disk-add uuid="$vm" disk-size=1GiB device=6)
xvm vm-start uuid="$vm"
xvm vm-list uuid="$vm" params=name-label,power-state,domid
timeout 5 build/frontends/cli/xvm -c "$uri" console uuid="$vm" </dev/null | head -4 || true
snap=$(xvm vdi-snapshot uuid="$disk")
xvm vm-disk-list uuid="$vm"
xvm vm-shutdown uuid="$vm"
xvm vdi-destroy uuid="$snap"
xvm vm-list uuid="$vm" params=name-label,power-state
xvm vm-uninstall uuid="$vm" --force
