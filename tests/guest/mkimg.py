#!/usr/bin/python3
"""Assembles the test guest's disk image: the boot sector, then the kernel
image padded to the fixed number of sectors the boot sector reads, then
zeros up to 1 MiB.

    mkimg.py --kernel-base ADDR --sectors N BOOT.elf KERNEL.elf OUT.img

Both inputs are ELF32 i386 files; their loadable bytes are laid out flat
(what objcopy -O binary does), and the layout boot.S relies on is checked."""

import argparse
import struct
import sys

IMAGE_SIZE = 1 << 20


def flat(path):
    """Returns (lowest load address, entry point, bytes from there on)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 1 or struct.unpack_from("<H", data, 18)[0] != 3:
        sys.exit(f"{path}: not an ELF32 i386 file")
    entry, phoff = struct.unpack_from("<II", data, 24)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    segments = []
    for i in range(phnum):
        p_type, p_offset, _, p_paddr, p_filesz = struct.unpack_from("<5I", data, phoff + i * phentsize)
        if p_type == 1 and p_filesz:  # PT_LOAD with bytes in the file
            segments.append((p_paddr, data[p_offset:p_offset + p_filesz]))
    if not segments:
        sys.exit(f"{path}: nothing to load")
    base = min(addr for addr, _ in segments)
    image = bytearray(max(addr + len(b) for addr, b in segments) - base)
    for addr, b in segments:
        image[addr - base:addr - base + len(b)] = b
    return base, entry, bytes(image)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel-base", type=lambda s: int(s, 0), required=True)
    ap.add_argument("--sectors", type=int, required=True)
    ap.add_argument("boot")
    ap.add_argument("kernel")
    ap.add_argument("output")
    args = ap.parse_args()

    base, _, boot = flat(args.boot)
    if base != 0x7C00 or len(boot) != 512 or boot[510:] != b"\x55\xaa":
        sys.exit(f"{args.boot}: not a 512-byte boot sector at 0x7C00")
    base, entry, kernel = flat(args.kernel)
    if base != args.kernel_base or entry != base:
        sys.exit(f"{args.kernel}: must load at {args.kernel_base:#x} and start at its first byte")
    room = args.sectors * 512
    if len(kernel) > room:
        sys.exit(f"{args.kernel}: {len(kernel)} bytes, the boot sector reads only {room}")
    # At least one whole cylinder of the 16-head, 63-sector geometry SeaBIOS
    # gives a small disk: with zero cylinders it cannot even read the MBR
    # (seen with q35's AHCI). 1 MiB is two.
    image = (boot + kernel.ljust(room, b"\0")).ljust(IMAGE_SIZE, b"\0")
    with open(args.output, "wb") as f:
        f.write(image)


if __name__ == "__main__":
    main()
