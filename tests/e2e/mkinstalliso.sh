#!/bin/sh
# Builds a bootable install ISO as distributions ship them: ISOLINUX (El
# Torito, no emulation) loading a kernel and initramfs from the disc, the
# console on the first serial port.
#   mkinstalliso.sh VMLINUZ INITRD OUTPUT.iso
set -eu
kernel=$1 initrd=$2 out=$3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir "$root/isolinux"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$root/isolinux/"
# ISO 9660 names without Rock Ridge: 8.3.
cp "$kernel" "$root/vmlinuz"
cp "$initrd" "$root/initrd.gz"
cat > "$root/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT install
PROMPT 0
TIMEOUT 0
LABEL install
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 quiet panic=-1 rdinit=/init
CFG
genisoimage -quiet -V XVM_INSTALL -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
  -boot-load-size 4 -boot-info-table -o "$out.tmp" "$root"
mv "$out.tmp" "$out"
