"""Shared by the real-Linux tests, whoever starts the VM: what the test kernel
and initramfs are, and what their /init prints (see init.sh). The console
reader is tests/lib/barequemu.py's.

Named serialconsole, not serial, so as not to shadow pyserial."""

import os
import re

# Built by tests/linux/meson.build; meson passes their paths to the tests.
KERNEL = os.environ.get("XVM_TEST_LINUX_KERNEL")
INITRD = os.environ.get("XVM_TEST_LINUX_INITRD")

# A lean command line: serial console, no chatter, reboot at once on a panic
# (with QEMU's -no-reboot: exit), our /init straight from the initramfs.
CMDLINE = "console=ttyS0 quiet panic=-1 rdinit=/init"

READY = re.compile(r"XVM-LINUX READY cpus=(?P<cpus>\d+) mem=(?P<mem>\d+)$")
POWEROFF = re.compile(r"XVM-LINUX POWEROFF$")
ERROR = re.compile(r"XVM-LINUX ERROR (?P<why>.*)$")
