/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Changing a running VM's resources: vCPU hot-plug and the balloon target. */
#pragma once

#include <stdint.h>

struct engine;

/* XenAPI VM.set_VCPUs_number_live: 1 <= n <= VCPUs_max. */
int vm_set_vcpus_live(struct engine *e, const char *ref, int64_t n);
/* XenAPI VM.set_memory_target_live: static_min <= target <= static_max (bytes). */
int vm_set_memory_target_live(struct engine *e, const char *ref, int64_t target);
