/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm-boot, the pygrub of xvm (PV_bootloader=xvm-boot): at each start, the
 * kernel and initrd of grub.cfg's default entry are copied from the guest's
 * ext2/3/4 filesystem on its bootable disk into the VM's run dir, and the VM
 * boots them directly with the entry's command line, then PV_args, then
 * xvm.hostname=<name-label as a hostname> (the ready-to-run Debian's first
 * boot takes its hostname from it; other guests ignore it).
 */
#pragma once

#include <json-c/json.h>

#include "hypercall.h"

struct engine;

#define XVM_BOOT_NAME "xvm-boot"

/* cfg's disks are filled in already; sets boot, kernel, ramdisk and cmdline.
 * BOOTLOADER_FAILED [vm, reason] when the disk cannot be booted. */
int xvm_boot_prepare(struct engine *e, const char *ref, struct json_object *rec, struct xvm_hc_domain_config *cfg);
/* Removes the files a start copied for the VM (its uuid), when it is deleted. */
void xvm_boot_forget(struct engine *e, const char *uuid);
/* The hostname for a name-label: letters, digits and '-', at most 63; "" if none. */
void xvm_boot_hostname(const char *label, char *out, size_t size);
