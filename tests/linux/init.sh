#!/bin/sh
# /init of the test initramfs (busybox sh, PID 1). What it promises on the
# console (ttyS0), one line each, which tests/linux/ waits for:
#
#   XVM-LINUX READY cpus=<online CPUs> mem=<MemTotal kB>
#       userspace is up and the ACPI power button is being watched;
#   XVM-LINUX POWEROFF
#       the power button was pressed; `poweroff -f` follows at once;
#   XVM-LINUX ERROR <why>
#       something this script needs is missing; it powers off too.
#
# PID 1 must never exit (the kernel would panic), so every path ends in poweroff.

fail() {
  echo "XVM-LINUX ERROR $*"
  poweroff -f
  sleep 60                 # poweroff -f does not return; never fall through
}

mkdir -p /proc /sys /dev
mount -t proc proc /proc || fail "mount proc"
mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"

# The modules mkinitramfs.py put in, in dependency order (empty when the
# kernel has the ACPI button and evdev built in).
while read -r mod; do
  insmod "/lib/modules/$mod" || fail "insmod $mod"
done < /etc/modules

# The ACPI power button's input device: /sys/class/input/inputN/name is
# "Power Button", and its evdev node is /dev/input/eventM (from devtmpfs) for
# the /sys/class/input/inputN/eventM it holds. Look for up to 10 s, in case a
# driver binds late.
event=""
i=0
while [ -z "$event" ] && [ $i -lt 100 ]; do
  for dev in /sys/class/input/input*; do
    [ "$(cat "$dev/name" 2>/dev/null)" = "Power Button" ] || continue
    for ev in "$dev"/event*; do
      [ -e "/dev/input/${ev##*/}" ] && event=/dev/input/${ev##*/} && break 2
    done
  done
  [ -n "$event" ] || { sleep 0.1; i=$((i + 1)); }
done
[ -n "$event" ] || fail "no Power Button input device"

# Open the device BEFORE saying READY: evdev queues events only for open
# readers, so a press that comes right after the READY line is not lost.
exec 3< "$event" || fail "open $event"

cpus=$(grep -c '^processor' /proc/cpuinfo)     # one entry per online CPU
mem=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
echo "XVM-LINUX READY cpus=$cpus mem=$mem"

# One struct input_event (24 bytes on x86-64) from the power button: the press.
dd bs=24 count=1 of=/dev/null <&3 2>/dev/null || fail "read $event"
echo "XVM-LINUX POWEROFF"
poweroff -f
sleep 60
