#!/bin/sh
# Installs every Debian package xvm needs to build, test and benchmark.
# Idempotent: apt-get skips what is already there.
set -eu
export DEBIAN_FRONTEND=noninteractive

PACKAGES="
  build-essential meson ninja-build pkg-config
  libjson-c-dev uuid-dev libyaml-dev libsqlite3-dev libcriterion-dev libxml2-dev zlib1g-dev
  python3-dev python3-pytest
  libmicrohttpd-dev libgnutls28-dev libcurl4-gnutls-dev libpam0g-dev libnfs-dev libext2fs-dev
  qemu-system-x86 qemu-utils qemu-block-extra ovmf swtpm swtpm-tools
  busybox-static xz-utils zstd genisoimage isolinux syslinux-common
  e2fsprogs lvm2 util-linux mount debootstrap
  nfs-ganesha nfs-ganesha-vfs rpcbind iproute2
  python3-libvirt libvirt-clients
"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi
