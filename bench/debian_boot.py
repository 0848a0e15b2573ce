#!/usr/bin/python3
"""Ready-to-run Debian benchmark: time from `xvm vm-install` of "Debian 12
(ready to run)" (then vm-start) to "NAME login:" on the serial console,
against a bare QEMU booting the same image the same way (direct kernel boot
of the kernel and initrd xvm-boot took from the disk, the same command line,
memory and vCPUs, a fresh copy-on-write overlay of the image as the disk), in
the same run, alternating.

    bench/debian_boot.py BUILD_DIR [RUNS]      (default RUNS = 3)

The template comes from `xvm template-build` (the image from the cache of
scripts/build-debian-template.sh; a first build takes minutes and root). Runs under TCG
(XVM_QEMU_ACCEL=tcg unless set), as CI does. Each boot is a first boot: the
hostname is set and the filesystem grown (to the same size) in both.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

from guest_boot import Xvm, console_log, qemu_cmdline, wait_for

TEMPLATE = "Debian 12 (ready to run)"
SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts")
TIMEOUT = 600


def install(xvm, name):
    """vm-install, plus the disk clone where this build's vm-install does not
    clone a template's disks yet; the time of both."""
    start = time.monotonic()
    vm = xvm("vm-install", f"template={TEMPLATE}", f"new-name-label={name}")
    if not xvm("vbd-list", f"VM={vm}", "type=Disk", "--minimal"):
        tpl = xvm("template-list", f"name-label={TEMPLATE}", "--minimal")
        base = xvm("vbd-list", f"VM={tpl}", "params=VDI", "--minimal")
        vdi = xvm("vdi-clone", f"uuid={base}", f"new-name-label={name} root")
        xvm("vbd-create", f"vm-uuid={vm}", f"vdi-uuid={vdi}", "device=0", "type=Disk", "mode=RW", "bootable=true")
    return vm, time.monotonic() - start


def opt(argv, flag):
    return argv[argv.index(flag) + 1]


def bare_boot(argv, image, tmp, name):
    """QEMU with the kernel, initrd, command line, memory and vCPUs xvm gave
    its VM, the disk a fresh overlay of the image on the same IDE (AHCI) port,
    and a VGA card as xvm's VM has (console=tty0 draws the boot on it too)."""
    overlay = os.path.join(tmp, "bare.qcow2")
    log = os.path.join(tmp, "bare-serial.log")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image, overlay], check=True)
    accel = os.environ["XVM_QEMU_ACCEL"]
    cmd = ["qemu-system-x86_64", "-machine", f"q35,accel={accel}", "-cpu", opt(argv, "-cpu"),
           "-smp", opt(argv, "-smp").split(",")[0], "-m", opt(argv, "-m"), "-nodefaults", "-display", "none",
           "-device", "VGA",
           "-kernel", opt(argv, "-kernel"), "-initrd", opt(argv, "-initrd"), "-append", opt(argv, "-append"),
           "-drive", f"file={overlay},format=qcow2,if=ide", "-serial", f"file:{log}"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return wait_for(log, f"{name} login:".encode(), start + TIMEOUT) - start
    finally:
        proc.kill()
        proc.wait()
        os.unlink(log)
        os.unlink(overlay)


def main():
    build = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    os.environ.setdefault("XVM_QEMU_ACCEL", "tcg")
    with tempfile.TemporaryDirectory(prefix="xvm-bench-debian-") as tmp:
        xvm = Xvm(build, os.path.join(tmp, "state"))
        start = time.monotonic()
        xvm("template-build")
        template_s = time.monotonic() - start
        image = os.path.join(tmp, "debian-12.raw")
        subprocess.run([os.path.join(SCRIPTS, "build-debian-template.sh"), image], check=True)
        installs, starts, boots, bare = [], [], [], []
        for i in range(runs):
            name = f"bench-{i}"
            start = time.monotonic()
            vm, took = install(xvm, name)
            installs.append(took)
            try:
                starts.append(xvm.timed("vm-start", f"uuid={vm}"))
                boots.append(wait_for(console_log(xvm, vm), f"{name} login:".encode(), start + TIMEOUT) - start)
                argv = qemu_cmdline(vm)
            finally:
                xvm("vm-uninstall", f"uuid={vm}", "--force")
            bare.append(bare_boot(argv, image, tmp, name))

    med = statistics.median
    print(f"Debian 12 (ready to run), 512 MiB, 1 vCPU, {os.environ['XVM_QEMU_ACCEL']}, median of {runs}:")
    print(f"  template-build (image from the cache)     {template_s:7.1f} s")
    print(f"  vm-install (+ disk clone)                 {med(installs) * 1000:7.1f} ms")
    print(f"  vm-start command (xvm-boot, QEMU up)      {med(starts) * 1000:7.1f} ms")
    print(f"  vm-install to 'NAME login:'               {med(boots):7.1f} s")
    print(f"  bare QEMU, same kernel/initrd/cmdline     {med(bare):7.1f} s")
    print(f"  ratio                                     {med(boots) / med(bare):7.3f}")


if __name__ == "__main__":
    main()
