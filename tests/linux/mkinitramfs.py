#!/usr/bin/python3
"""Builds the real-Linux tests' initramfs: a gzip'd cpio (newc) archive with a
static busybox, the /init script, and the kernel modules that
fetch-test-kernel.sh kept (decompressed here: busybox's insmod takes plain .ko).

    mkinitramfs.py --busybox /bin/busybox --init init.sh --kernel-dir DIR OUT

DIR is fetch-test-kernel.sh's DESTDIR: modules/load-order lists the modules'
paths under DIR/modules, dependencies first. The archive is written in Python
(no cpio needed), with fixed owners and times so that it is reproducible; it
holds /dev/console itself, since the kernel opens it for /init before /init
can mount devtmpfs."""

import argparse
import gzip
import lzma
import os
import stat
import struct
import subprocess
import sys

# The busybox applets init.sh uses, as symlinks in /bin.
APPLETS = ["sh", "mount", "mkdir", "cat", "grep", "sed", "sleep", "insmod",
           "dd", "poweroff", "sha256sum", "wc", "cut", "ip", "ping", "udhcpc", "printf", "chmod"]


class Cpio:
    """A newc ("070701") archive in memory."""

    def __init__(self):
        self.data = bytearray()
        self.ino = 0

    def _entry(self, name, mode, body=b"", rdev=(0, 0)):
        self.ino += 1
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(body), 0, 0, rdev[0], rdev[1],
                  len(name_b), 0]   # ino mode uid gid nlink mtime size devmaj/min rdevmaj/min namesize check
        self.data += b"070701" + b"".join(b"%08x" % f for f in fields) + name_b
        self.data += b"\0" * (-len(self.data) % 4)
        self.data += body
        self.data += b"\0" * (-len(self.data) % 4)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, body, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, body)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.data)


def static_elf(data):
    """True for an ELF executable with no program interpreter (PT_INTERP)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:      # ELF64 only: x86-64 guests
        return False
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    return all(struct.unpack_from("<I", data, phoff + i * phentsize)[0] != 3
               for i in range(phnum))


def module_bytes(path):
    """A module's plain ELF bytes, however Debian compressed it."""
    if path.endswith(".xz"):
        return lzma.decompress(open(path, "rb").read())
    if path.endswith(".gz"):
        return gzip.decompress(open(path, "rb").read())
    if path.endswith(".zst"):        # no zstd in Python's standard library here
        return subprocess.run(["zstd", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    return open(path, "rb").read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--init", required=True)
    ap.add_argument("--kernel-dir", required=True)
    ap.add_argument("output")
    args = ap.parse_args()

    busybox = open(args.busybox, "rb").read()
    if not static_elf(busybox):
        sys.exit(f"{args.busybox}: not a static x86-64 ELF (install busybox-static)")

    cpio = Cpio()
    for d in ["bin", "dev", "etc", "lib", "lib/modules", "proc", "sys"]:
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.file("bin/busybox", busybox, 0o755)
    for applet in APPLETS:
        cpio.symlink(f"bin/{applet}", "busybox")
    cpio.file("init", open(args.init, "rb").read(), 0o755)

    moddir = os.path.join(args.kernel_dir, "modules")
    with open(os.path.join(moddir, "load-order")) as f:
        order = [line.strip() for line in f if line.strip()]
    names = []
    for rel in order:
        body = module_bytes(os.path.join(moddir, rel))
        if body[:4] != b"\x7fELF":
            sys.exit(f"{rel}: not an ELF module after decompression")
        name = os.path.basename(rel).split(".ko")[0] + ".ko"
        cpio.file(f"lib/modules/{name}", body)
        names.append(name)
    cpio.file("etc/modules", "".join(n + "\n" for n in names).encode())

    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        # mtime=0: the same inputs give the same bytes.
        f.write(gzip.compress(cpio.finish(), compresslevel=9, mtime=0))
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
