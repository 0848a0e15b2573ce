/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checks of a domain config that do not depend on the backend, so that
 * the sim and QEMU reject the same configs with the same errno and detail.
 * Each sets xvm_hv_set_error() and returns a negative errno on failure.
 * What a backend checks on top (memory rules, files, firmware) is its own.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hypercall.h"

/* A fixed-size string field of the ABI holds its NUL. */
#define HV_TERMINATED(field) (strnlen((field), sizeof(field)) < sizeof(field))

/* 8-4-4-4-12 hex digits, NUL-terminated. */
bool hv_uuid_valid(const char *u);

/* Whether s is one of the NULL-terminated set. */
bool hv_one_of(const char *s, const char *const *set);

/* uuid, name, vcpu counts (max_vcpus is the backend's limit) and the vTPM dir. */
int hv_config_check(const struct xvm_hc_domain_config *c, uint32_t max_vcpus);

/* The vTPM state dir: empty, or an existing directory named by an absolute path without commas. */
int hv_vtpm_check(const struct xvm_hc_domain_config *c);

/* Every vcpu's affinity names only CPUs in the host's cpumask. */
int hv_affinity_check(const struct xvm_hc_domain_config *c, uint64_t cpumask, uint32_t cpu_count);

/* Firmware, machine, boot order, boot method and its strings. */
int hv_boot_check(const struct xvm_hc_domain_config *c);

/* Strings, kind, and a path that is a local file name or a valid nfs:// URL (url.h). */
int hv_disk_check(const struct xvm_hc_disk_config *d);
int hv_nic_check(const struct xvm_hc_nic_config *n);
/* BRIDGE_RELEASE's argument: a bridge name. */
int hv_bridge_check(const struct xvm_hc_bridge *a);

/* Device counts and unique positions, each device checked by the backend's own check. */
int hv_devices_check(const struct xvm_hc_domain_config *c,
		     int (*disk_check)(const struct xvm_hc_disk_config *d),
		     int (*nic_check)(const struct xvm_hc_nic_config *n));

/* The board's IDE/AHCI ports: positions below this, given at start, are IDE disks and CD drives. */
uint32_t hv_ide_ports(const char *machine);
bool hv_disk_on_ide(const char *machine, uint32_t position, bool hotplugged);

/*
 * DISK_RESIZE of disk d (on the IDE controller or not) from `current` bytes
 * (0: not known) to `size` bytes. The current size itself passes: the
 * caller does nothing then.
 */
int hv_resize_check(uint32_t domid, const struct xvm_hc_disk_config *d, bool ide, uint64_t current,
		    uint64_t size);

/* DISK_SNAPSHOT's own strings, as the disk config `ret` of the overlay at a's position. */
int hv_snapshot_args(const struct xvm_hc_disk_snapshot *a, struct xvm_hc_disk_config *ret);

/* Whether disk d of domain domid can be snapshotted into overlay `ov`. */
int hv_snapshot_check(uint32_t domid, const struct xvm_hc_disk_config *d, const struct xvm_hc_disk_config *ov);

/* What an image's header says, as QEMU (or the sim) read it. */
struct hv_image {
	char format[16];
	uint64_t size;
	char backing[XVM_HC_PATH_MAX];      /* resolved against the image's directory; "" for none */
	char backing_format[16];            /* "" when the header records none */
};

/* The overlay's header names disk d's image (of `size` bytes) as its backing file and format. */
int hv_overlay_check(const struct xvm_hc_disk_config *d, uint64_t size, const char *overlay,
		     const struct hv_image *img);
