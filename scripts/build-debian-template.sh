#!/bin/sh
# Builds the disk image of the "Debian 12 (ready to run)" template from Debian's
# packages, WITHOUT mounting anything:
#
#     scripts/build-debian-template.sh IMAGE
#
# debootstraps bookworm into a directory (as root: chroot, no mount), sets it up
# (below) and writes it into a whole-disk ext4 filesystem with `mke2fs -d`. The
# image is raw, $XVM_DEBIAN_SIZE (default 2G) and sparse; the guest grows the
# filesystem to its disk at each boot. The result is cached in
# $XVM_DEBIAN_CACHE (default ~/.cache/xvm/debian-12), keyed by the package
# set, the mirror and this script, so a second run only copies it (sparse).
#
# The guest: systemd, Debian's linux-image-amd64, a getty on ttyS0 and tty1,
# root logs in on the consoles with NO password. /boot/grub/grub.cfg names the
# kernel, initrd and command line for xvm-boot (PV-bootloader=xvm-boot, no GRUB
# installed; a kernel hook rewrites it on kernel upgrades). First boot: the
# hostname comes from xvm.hostname= on the kernel command line (xvm-boot puts
# the VM's name-label there).
#
# The mirror is the first Debian one of this machine's apt sources, or
# $XVM_DEBIAN_MIRROR. Needs debootstrap and e2fsprogs (mke2fs -d: 1.43+).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 IMAGE" >&2; exit 2; }
out=$1
size=${XVM_DEBIAN_SIZE:-2G}
suite=bookworm
packages="systemd,systemd-sysv,udev,kmod,linux-image-amd64,initramfs-tools,e2fsprogs,util-linux,login,passwd,procps,iproute2,ifupdown,isc-dhcp-client"

mirror=${XVM_DEBIAN_MIRROR:-$(grep -rhsoE '^(URIs:|deb)[[:space:]]+https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
  /etc/apt/sources.list /etc/apt/sources.list.d/ | head -n 1 | awk '{print $2}')}
[ -n "$mirror" ] || { echo "$0: no Debian mirror in /etc/apt/sources*; set XVM_DEBIAN_MIRROR" >&2; exit 1; }

cache=${XVM_DEBIAN_CACHE:-${HOME:-/root}/.cache/xvm/debian-12}
key=$( (echo "$suite $packages $mirror $size"; cat "$0") | sha256sum | cut -c1-16)
cached=$cache/$key.raw

if [ ! -f "$cached" ]; then
  [ "$(id -u)" = 0 ] || { echo "$0: debootstrap needs root" >&2; exit 1; }
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  root=$work/root
  start=$(date +%s)
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2; echo "$0: debootstrap failed" >&2; exit 1; }

  echo "LABEL=xvm-root / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
  echo debian >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  # Each VM gets its own machine id at its first boot; no interactive first-boot prompts.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  ln -sf /dev/null "$root/etc/systemd/system/systemd-firstboot.service"
  # Root logs in with no password (pam_unix nullok on Debian).
  sed -i 's/^root:[^:]*:/root::/' "$root/etc/shadow"
  mkdir -p "$root/etc/systemd/system/getty.target.wants"
  ln -sf /lib/systemd/system/serial-getty@.service "$root/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
  ln -sf /lib/systemd/system/getty@.service "$root/etc/systemd/system/getty.target.wants/getty@tty1.service"
  printf 'auto lo\niface lo inet loopback\n\nallow-hotplug enp0s2\niface enp0s2 inet dhcp\n' >"$root/etc/network/interfaces"

  cat >"$root/usr/local/sbin/xvm-firstboot" <<'EOS'
#!/bin/sh
# Grows the root filesystem to its disk (each boot: the disk may have been
# resized since); on the first boot, takes the hostname from xvm.hostname=.
dev=$(findmnt -no SOURCE /)
resize2fs "$dev" || true
if [ ! -e /var/lib/xvm/firstboot.done ]; then
  for arg in $(cat /proc/cmdline); do
    case $arg in xvm.hostname=?*) name=${arg#xvm.hostname=} ;; esac
  done
  if [ -n "${name:-}" ]; then
    echo "$name" >/etc/hostname
    hostname "$name"
    printf '127.0.1.1\t%s\n' "$name" >>/etc/hosts
  fi
  mkdir -p /var/lib/xvm && touch /var/lib/xvm/firstboot.done
fi
EOS
  chmod 755 "$root/usr/local/sbin/xvm-firstboot"
  cat >"$root/etc/systemd/system/xvm-firstboot.service" <<'EOS'
[Unit]
Description=xvm: hostname from the VM's name-label, root filesystem grown to the disk
After=systemd-remount-fs.service
Before=systemd-user-sessions.service getty-pre.target systemd-logind.service
Wants=getty-pre.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/xvm-firstboot

[Install]
WantedBy=multi-user.target
EOS
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -sf /etc/systemd/system/xvm-firstboot.service "$root/etc/systemd/system/multi-user.target.wants/"

  # grub.cfg as update-grub writes it, for xvm-boot; rewritten when the kernel changes.
  mkdir -p "$root/boot/grub" "$root/etc/kernel/postinst.d"
  cat >"$root/etc/kernel/postinst.d/zz-xvm-boot" <<'EOS'
#!/bin/sh
# Writes /boot/grub/grub.cfg for xvm-boot: the newest kernel first.
set -e
out=/boot/grub/grub.cfg
{
  echo 'set default="0"'
  echo 'set timeout=0'
  for k in $(ls -v /boot/vmlinuz-* | sort -rV); do
    v=${k#/boot/vmlinuz-}
    echo "menuentry 'Debian GNU/Linux, with Linux $v' --class debian {"
    echo "	linux	/boot/vmlinuz-$v root=LABEL=xvm-root ro console=tty0 console=ttyS0,115200n8"
    [ -f "/boot/initrd.img-$v" ] && echo "	initrd	/boot/initrd.img-$v"
    echo "}"
  done
} >"$out.new"
mv "$out.new" "$out"
EOS
  chmod 755 "$root/etc/kernel/postinst.d/zz-xvm-boot"
  chroot "$root" /etc/kernel/postinst.d/zz-xvm-boot
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

  rm -f "$work/image.raw"
  mke2fs -q -F -t ext4 -L xvm-root -d "$root" "$work/image.raw" "$size"
  mv "$work/image.raw" "$cached"
  echo "$0: built $cached in $(($(date +%s) - start)) s" >&2
fi
cp --sparse=always "$cached" "$out"
