#!/bin/sh
# Fetches Debian's current kernel for the real-Linux tests, WITHOUT installing it
# on the host:
#
#     scripts/fetch-test-kernel.sh DESTDIR
#
# It finds the image package that linux-image-amd64 depends on (e.g.
# linux-image-6.1.0-56-amd64), `apt-get download`s it into $XVM_KERNEL_CACHE
# (default DESTDIR/cache), unpacks the few files the tests need and leaves:
#
#     DESTDIR/vmlinuz                the kernel, for QEMU's -kernel
#     DESTDIR/config                 its build configuration
#     DESTDIR/release                its release string (uname -r)
#     DESTDIR/package                "NAME VERSION" of the .deb it came from
#     DESTDIR/modules/kernel/...     the modules below (.ko/.ko.xz/.ko.zst as shipped)
#     DESTDIR/modules/load-order     their paths under modules/, in insmod order
#
# The modules kept are $XVM_KERNEL_MODULES (default: the ACPI button and evdev,
# what the test initramfs loads) plus what they depend on, if they are modules
# at all in this kernel (not built in). Idempotent: it does nothing when DESTDIR already holds
# that package's files. Needs only apt and dpkg.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 DESTDIR" >&2; exit 2; }
dest=$1
cache=${XVM_KERNEL_CACHE:-$dest/cache}
wanted=${XVM_KERNEL_MODULES:-button evdev}
meta=linux-image-amd64

# The package that linux-image-amd64 currently depends on, and its version.
image_package() {
  apt-cache depends "$meta" 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}
pkg=$(image_package)
if [ -z "$pkg" ]; then          # apt lists never fetched (fresh machine)
  apt-get update -q >&2
  pkg=$(image_package)
fi
[ -n "$pkg" ] || { echo "$0: apt knows no $meta" >&2; exit 1; }
ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')

if [ -f "$dest/vmlinuz" ] && [ "$(cat "$dest/package" 2>/dev/null)" = "$pkg $ver" ]; then
  touch "$dest/vmlinuz"         # already there; newer than this script for make/ninja
  exit 0
fi

# Download (once) into the cache. apt names the file NAME_VERSION_ARCH.deb with
# the epoch's ':' escaped; a glob on the name is enough since we clean old ones.
mkdir -p "$cache"
deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ] || ! dpkg-deb -f "$deb" Version | grep -qxF "$ver"; then
  rm -f "$cache/${pkg}_"*.deb
  # Sandbox::User=root: the cache may not be writable by apt's _apt user.
  ( cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" ) >&2 || {
    apt-get update -q >&2      # lists older than the archive: the .deb moved
    ( cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" ) >&2
  }
  deb=$(ls "$cache/${pkg}_"*.deb | head -n 1)
fi

# Unpack into a scratch dir next to DESTDIR, then move the few files we keep:
# the whole tree is hundreds of MB of modules we do not need.
tmp=$(mktemp -d "$dest/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
release=$(ls "$tmp/lib/modules" | head -n 1)
moddir=$tmp/lib/modules/$release
[ -f "$tmp/boot/vmlinuz-$release" ] || { echo "$0: no vmlinuz-$release in $deb" >&2; exit 1; }

rm -rf "$dest/modules"
mkdir -p "$dest/modules"
: > "$dest/modules/load-order"

# The .modinfo "depends=" of a module file, compressed or not (no kmod needed).
depends() {
  case $1 in
    *.xz)  xz -dc "$1" ;;
    *.zst) zstd -dc "$1" ;;
    *.gz)  gzip -dc "$1" ;;
    *)     cat "$1" ;;
  esac | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}

# Keeps module NAME (and first what it depends on) unless built in; appends its
# path to load-order, dependencies first. Names mix "_" and "-" freely.
keep() {
  local pat f d        # dash and bash both have local; keep recurses
  pat=$(echo "$1" | sed 's/[-_]/[-_]/g')
  if grep -qE "(^|/)$pat\.ko\$" "$moddir/modules.builtin"; then
    return 0
  fi
  f=$(cd "$moddir" && find kernel -regextype posix-extended \
        -regex ".*/$pat\.ko(\.xz|\.zst|\.gz)?" | head -n 1)
  [ -n "$f" ] || { echo "$0: no module $1 in $release" >&2; exit 1; }
  grep -qxF "$f" "$dest/modules/load-order" && return 0
  for d in $(depends "$moddir/$f"); do
    keep "$d"
  done
  mkdir -p "$dest/modules/$(dirname "$f")"
  cp "$moddir/$f" "$dest/modules/$f"
  echo "$f" >> "$dest/modules/load-order"
}
for name in $wanted; do
  keep "$name"
done
cp "$tmp/boot/config-$release" "$dest/config"
echo "$release" > "$dest/release"
cp "$tmp/boot/vmlinuz-$release" "$dest/vmlinuz.new"
mv "$dest/vmlinuz.new" "$dest/vmlinuz"
echo "$pkg $ver" > "$dest/package"     # last: marks DESTDIR complete
