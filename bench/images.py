"""What the storage benchmarks share: timing a call, and disks that hold real data."""
import subprocess
import time

GiB = 1 << 30


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fill(path, size):
    """Writes size bytes of non-zero data into the qcow2 image, in 1 GiB requests."""
    cmds = []
    for off in range(0, size, GiB):
        cmds += ["-c", f"write -q -P 0x5a {off} {min(GiB, size - off)}"]
    subprocess.run(["qemu-io", "-f", "qcow2", *cmds, path], check=True)
