#!/usr/bin/python3
"""Real-guest benchmark: time from `xvm vm-start` to the test guest's ready
line, against a bare qemu-system-x86_64 started with the identical command
line in the same run; and the latencies of pause/unpause, suspend/resume
and clean shutdown of a 256 MiB guest.

    bench/guest_boot.py BUILD_DIR [RUNS]      (default RUNS = 20)

Runs under TCG (XVM_QEMU_ACCEL=tcg unless set), as CI does.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

READY = b"XVM-GUEST READY"


def wait_for(path, needle, deadline, offset=0):
    """Polls a growing file until needle appears after offset; returns the time it was seen."""
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                if needle in f.read():
                    return time.monotonic()
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    raise TimeoutError(f"{needle!r} not seen in {path}")


class Xvm:
    def __init__(self, build, state):
        self.cli = os.path.join(build, "frontends", "cli", "xvm")
        self.uri = f"local://{state}"

    def __call__(self, *args):
        p = subprocess.run([self.cli, "-c", self.uri, *args], capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"xvm {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout.strip()

    def timed(self, *args):
        start = time.monotonic()
        self(*args)
        return time.monotonic() - start


def console_log(xvm, vm):
    consoles = json.loads(xvm("console-list", f"VM={vm}", "params=all", "--json"))
    for c in consoles:
        if c["protocol"] == "vt100":
            return c["other-config"]["log"]
    raise RuntimeError("no text console")


def qemu_cmdline(vm_uuid):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
        except OSError:
            continue
        if argv and argv[0].endswith(b"qemu-system-x86_64") and vm_uuid.encode() in argv:
            return [a.decode() for a in argv]
    raise RuntimeError("QEMU of the VM not found")


def bare_boot(argv):
    """The command line xvm ran, run by hand; only -S goes (xvm unpauses over
    QMP; a bare QEMU simply starts running)."""
    argv = [a for a in argv if a != "-S"]
    log = None
    for a in argv:
        for part in a.split(","):
            for key in ("path=", "logfile="):
                if part.startswith(key):
                    os.makedirs(os.path.dirname(part[len(key):]), exist_ok=True)
            if part.startswith("logfile="):
                log = part[len("logfile="):]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return wait_for(log, READY, start + 30) - start
    finally:
        proc.kill()
        proc.wait()
        os.unlink(log)


def main():
    build = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.environ.setdefault("XVM_QEMU_ACCEL", "tcg")
    kernel = os.path.join(build, "tests", "guest", "guest.elf")
    with tempfile.TemporaryDirectory(prefix="xvm-bench-guest-") as tmp:
        xvm = Xvm(build, os.path.join(tmp, "state"))
        vm = xvm("vm-install", "template=Direct kernel boot", "new-name-label=bench")
        try:
            xvm("vm-param-set", f"uuid={vm}", f"PV-kernel={kernel}", "memory-static-max=256MiB",
                "memory-dynamic-max=256MiB", "memory-dynamic-min=256MiB")
            # xvm and bare runs alternate, so that drift in the machine's load
            # falls on both alike.
            boots, bare, argv = [], [], None
            for _ in range(runs):
                start = time.monotonic()
                xvm("vm-start", f"uuid={vm}")
                boots.append(wait_for(console_log(xvm, vm), READY, start + 30) - start)
                argv = argv or qemu_cmdline(vm)
                xvm("vm-shutdown", f"uuid={vm}", "--force")
                bare.append(bare_boot(argv))

            xvm("vm-start", f"uuid={vm}")
            wait_for(console_log(xvm, vm), READY, time.monotonic() + 30)
            lat = {"pause": [], "unpause": [], "suspend": [], "resume": [], "clean shutdown": []}
            for _ in range(runs):
                lat["pause"].append(xvm.timed("vm-pause", f"uuid={vm}"))
                lat["unpause"].append(xvm.timed("vm-unpause", f"uuid={vm}"))
            for _ in range(min(runs, 5)):
                lat["suspend"].append(xvm.timed("vm-suspend", f"uuid={vm}"))
                lat["resume"].append(xvm.timed("vm-resume", f"uuid={vm}"))
            for _ in range(min(runs, 5)):
                lat["clean shutdown"].append(xvm.timed("vm-shutdown", f"uuid={vm}"))
                xvm("vm-start", f"uuid={vm}")
                wait_for(console_log(xvm, vm), READY, time.monotonic() + 30)
        finally:
            # A failed run must leave no guest behind to skew the next one.
            xvm("vm-uninstall", f"uuid={vm}", "--force")

    med = statistics.median
    print(f"test guest, 256 MiB, TCG ({os.environ['XVM_QEMU_ACCEL']}), median of {runs}:")
    print(f"  vm-start to ready line      {med(boots) * 1000:7.1f} ms")
    print(f"  bare QEMU, same command     {med(bare) * 1000:7.1f} ms")
    print(f"  overhead ratio              {med(boots) / med(bare):7.3f}")
    for name, values in lat.items():
        print(f"  {name:<27} {med(values) * 1000:7.1f} ms   (CLI command, start to exit)")


if __name__ == "__main__":
    main()
