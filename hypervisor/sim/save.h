/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim's save file: what a saved domain was and how far its run had
 * got, so that a restore continues the same run. Versioned and
 * self-describing in the manner of Xen's migration stream:
 *
 *   "XVMSIMSV" | u32 version | u32 reserved
 *   records: u32 type | u32 length | payload | zero padding to 8 bytes
 *     DOMAIN   uuid[40] | u32 vcpus_max | u32 0 | u64 memory_static_max_kib
 *     RUNSTATE u32 vcpus_online | u32 pending_shutdown | u64 memory_target_kib
 *              | u64 start_time | u64 cpu_time_ns
 *     END      u32 CRC-32 of every byte before the END record; nothing follows
 *
 * All integers little-endian.
 */
#pragma once

#include <stdint.h>

struct sim_saved {
	char uuid[40];
	uint32_t vcpus_max;
	uint64_t memory_static_max_kib;
	uint32_t vcpus_online;
	uint32_t pending_shutdown; /* as in struct sim_slot */
	uint64_t memory_target_kib;
	uint64_t start_time;
	uint64_t cpu_time_ns;
};

/* Writes under a temporary name and renames, so `path` is whole or absent. */
int sim_save_write(const char *path, const struct sim_saved *s);

/* Reads and strictly checks a save file: -EINVAL for a truncated or corrupt one. */
int sim_save_read(const char *path, struct sim_saved *ret);
