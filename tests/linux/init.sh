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
# With xvm.watch=storage on the kernel command line it also reports the
# guest's drives: their state first, before READY, then a line whenever one
# changes (polled every 0.3 s), until the power button:
#
#   XVM-LINUX DISKS vda=<sectors> vdb=<sectors> ...
#       every block device but ram*, loop* and the CD drives, with its size
#       in 512-byte sectors (/sys/block/NAME/size);
#   XVM-LINUX CD sr0=<volume id> ...
#       every CD drive with the ISO 9660 volume id of its disc, or NONE when
#       it is empty (an empty list: no CD drive).
#
# With xvm.watch=tpm it reports the TPM, before READY and then every second
# (n counts the reports), until the power button:
#
#   XVM-LINUX TPM n=<k> version=<major> ek=<sha256> size=<bytes>
#       version: /sys/class/tpm/tpm0/tpm_version_major (NONE: no TPM); ek and
#       size: the hash and length of the TPM's answer to TPM2_ReadPublic of
#       the endorsement key at persistent handle 0x81010001 (the one
#       swtpm_setup makes): the same key across boots means the same TPM
#       state, and an answer of 10 bytes is an error code (NONE: no /dev/tpm0).
# With xvm.watch=net it reports the guest's network interfaces the same way,
# and does what the command line asks of them:
#
#   XVM-LINUX NICS eth0=<MAC> ...
#       every interface but lo, by name, with its MAC (an empty list: none);
#   XVM-LINUX IP eth0=<ADDR/PREFIX>
#       xvm.ip=ADDR/PREFIX: eth0 has that address and is up (before READY);
#   XVM-LINUX DHCP eth0=<ADDR>
#       xvm.dhcp: udhcpc got a lease for eth0;
#   XVM-LINUX PING <ADDR> ok | XVM-LINUX PING <ADDR> failed
#       xvm.ping=ADDR: ADDR answered an ICMP echo within 90 tries (a minute or two), or never did.
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

# " vda=N vdb=M": the disks, in name order.
disks() {
  list=""
  for dev in /sys/block/*; do
    case ${dev##*/} in ram* | loop* | sr* | "*") continue ;; esac
    read -r size < "$dev/size" || size=?
    list="$list ${dev##*/}=$size"
  done
  echo "$list"
}

# " sr0=LABEL": each CD drive's disc by its volume id, 32 space-padded bytes
# at offset 40 of the primary volume descriptor (sector 16 of 2048 bytes).
# Opening the drive makes the kernel ask it about a media change, so a new
# disc is read afresh; opening an empty drive fails.
cds() {
  list=""
  for dev in /sys/block/sr*; do
    [ -e "$dev" ] || continue
    label=$(dd if="/dev/${dev##*/}" bs=1 skip=32808 count=32 2>/dev/null)
    label=${label%"${label##*[! ]}"}
    list="$list ${dev##*/}=${label:-NONE}"
  done
  echo "$list"
}

# Prints the state lines that changed since the last report ($seen_disks,
# $seen_cds).
report_storage() {
  now_disks=$(disks)
  now_cds=$(cds)
  [ "$now_disks" = "$seen_disks" ] || echo "XVM-LINUX DISKS$now_disks"
  [ "$now_cds" = "$seen_cds" ] || echo "XVM-LINUX CD$now_cds"
  seen_disks=$now_disks
  seen_cds=$now_cds
}

# " n=K version=V ek=HASH size=N" of the TPM (see the header).
tpm_state() {
  version=$(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null) || version=NONE
  ek=NONE size=0
  if [ -c /dev/tpm0 ] && exec 4<>/dev/tpm0; then
    # TPM2_ReadPublic (tag NO_SESSIONS, 14 bytes, code 0x173) of 0x81010001, in one write.
    printf '\200\001\000\000\000\016\000\000\001\163\201\001\000\001' >&4
    dd bs=4096 count=1 <&4 >/tmp/tpm-answer 2>/dev/null
    exec 4<&-
    ek=$(sha256sum </tmp/tpm-answer | cut -d' ' -f1)
    size=$(wc -c </tmp/tpm-answer)
  fi
  echo " n=$1 version=$version ek=$ek size=$size"
}

# " eth0=MAC": the network interfaces, in name order.
nics() {
  list=""
  for dev in /sys/class/net/*; do
    case ${dev##*/} in lo | "*") continue ;; esac
    read -r mac < "$dev/address" || mac=?
    list="$list ${dev##*/}=$mac"
  done
  echo "$list"
}

report_net() {
  now_nics=$(nics)
  [ "$now_nics" = "$seen_nics" ] || echo "XVM-LINUX NICS$now_nics"
  seen_nics=$now_nics
}

# The value of KEY=VALUE on the kernel command line, or "".
arg() {
  for word in $(cat /proc/cmdline); do
    case $word in "$1="*) echo "${word#*=}"; return ;; esac
  done
}

net_setup() {
  addr=$(arg xvm.ip)
  if [ -n "$addr" ]; then
    ip link set eth0 up && ip addr add "$addr" dev eth0 || fail "ip $addr on eth0"
    echo "XVM-LINUX IP eth0=$addr"
  fi
  case " $(cat /proc/cmdline) " in
  *" xvm.dhcp "*)
    mkdir -p /tmp
    printf '#!/bin/sh\n[ "$1" = bound ] && echo "XVM-LINUX DHCP $interface=$ip"\nexit 0\n' > /tmp/dhcp.sh
    chmod 755 /tmp/dhcp.sh
    ip link set eth0 up || fail "eth0 up"
    udhcpc -i eth0 -f -q -n -t 20 -T 3 -s /tmp/dhcp.sh 2>/dev/null &
    ;;
  esac
  peer=$(arg xvm.ping)
  if [ -n "$peer" ]; then
    (
      n=0
      until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
        n=$((n + 1))
        [ $n -lt 90 ] || { echo "XVM-LINUX PING $peer failed"; exit 0; }
        sleep 0.5
      done
      echo "XVM-LINUX PING $peer ok"
    ) &
  fi
}

# The first report before READY, then a poll loop beside the power-button read.
case " $(cat /proc/cmdline) " in
*" xvm.watch=tpm "*)
  mkdir -p /tmp
  echo "XVM-LINUX TPM$(tpm_state 0)"
  (n=1; while :; do sleep 1; echo "XVM-LINUX TPM$(tpm_state $n)"; n=$((n + 1)); done) &
  ;;
esac
case " $(cat /proc/cmdline) " in
*" xvm.watch=storage "*)
  seen_disks=- seen_cds=-
  report_storage
  while :; do sleep 0.3; report_storage; done &
  ;;
*" xvm.watch=net "*)
  seen_nics=-
  report_net
  net_setup
  while :; do sleep 0.3; report_net; done &
  ;;
esac

cpus=$(grep -c '^processor' /proc/cpuinfo)     # one entry per online CPU
mem=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
echo "XVM-LINUX READY cpus=$cpus mem=$mem"

# One struct input_event (24 bytes on x86-64) from the power button: the press.
dd bs=24 count=1 of=/dev/null <&3 2>/dev/null || fail "read $event"
echo "XVM-LINUX POWEROFF"
poweroff -f
sleep 60
