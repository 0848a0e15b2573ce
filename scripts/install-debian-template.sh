#!/bin/sh
# Makes the "Debian 12 (ready to run)" template of an xvm host, once:
#
#     scripts/install-debian-template.sh [XVM-OPTIONS...]
#
# e.g. `-c local:///var/lib/xvm`. It builds (or takes from the cache) the disk
# image with build-debian-template.sh, imports it into the pool's default SR
# as a qcow2 VDI, and makes a template booting it with PV-bootloader=xvm-boot
# (vm-install then clones the disk copy-on-write). It does nothing when the
# template exists already. $XVM names the CLI (default: xvm on PATH).
set -eu

xvm() { "${XVM:-xvm}" "$@"; }
name="Debian 12 (ready to run)"
here=$(dirname "$0")

if [ -n "$(xvm "$@" template-list name-label="$name" --minimal)" ]; then
  echo "$0: template '$name' exists already" >&2
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/build-debian-template.sh" "$work/debian-12.raw"
size=$(stat -c %s "$work/debian-12.raw")

pool=$(xvm "$@" pool-list --minimal)
sr=$(xvm "$@" pool-param-get uuid="$pool" param-name=default-SR)
vdi=$(xvm "$@" vdi-import filename="$work/debian-12.raw" format=raw sr-uuid="$sr" virtual-size="$size" \
  name-label="Debian 12 (ready to run) root")

# Made as a VM from the direct-kernel-boot template, then turned into a template;
# undone if a step fails.
vm=$(xvm "$@" vm-install template="Direct kernel boot" new-name-label="$name") || {
  xvm "$@" vdi-destroy uuid="$vdi"; exit 1; }
if ! { xvm "$@" vm-param-set uuid="$vm" PV-bootloader=xvm-boot PV-kernel= PV-args= \
         name-description="Debian 12 (bookworm) with systemd: boots to a login on the serial console and tty1 (root, no password); the first boot takes the hostname from the name-label and grows the root filesystem to the disk" &&
       xvm "$@" vm-param-set uuid="$vm" memory-static-max=512MiB &&
       xvm "$@" vm-param-set uuid="$vm" memory-dynamic-max=512MiB &&
       xvm "$@" vm-param-set uuid="$vm" memory-dynamic-min=512MiB &&
       xvm "$@" vbd-create vm-uuid="$vm" vdi-uuid="$vdi" device=0 type=Disk mode=RW bootable=true >/dev/null &&
       xvm "$@" vm-param-set uuid="$vm" is-a-template=true; }; then
  xvm "$@" vm-uninstall uuid="$vm" --force || true
  xvm "$@" vdi-destroy uuid="$vdi" 2>/dev/null || true
  exit 1
fi
echo "$vm"
