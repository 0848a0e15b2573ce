/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real host the sim hypervisor reports: name, CPUs and memory. */
#pragma once

#include <stdint.h>

struct sim_host {
	char hostname[256];
	uint32_t cpu_count;
	uint64_t memory_total_kib;
};

int sim_host_probe(struct sim_host *ret);

/* Bit n set for every host CPU n a vCPU may be pinned to. */
uint64_t sim_host_cpumask(const struct sim_host *h);
