/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reads the facts of the real host once, when a sim handle opens. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "host.h"

static int read_memtotal(uint64_t *ret)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");
	int r = -ENODATA;

	if (!f) {
		r = -errno;
		xvm_hv_set_error("cannot read /proc/meminfo: %s", strerror(-r));
		return r;
	}
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "MemTotal: %" SCNu64 " kB", ret) == 1) {
			r = 0;
			break;
		}
	fclose(f);
	if (r < 0)
		xvm_hv_set_error("/proc/meminfo has no MemTotal line");
	return r;
}

int sim_host_probe(struct sim_host *ret)
{
	struct sim_host h = { 0 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	if (gethostname(h.hostname, sizeof h.hostname - 1) < 0) {
		r = -errno;
		xvm_hv_set_error("gethostname: %s", strerror(-r));
		return r;
	}
	h.cpu_count = cpus > 0 ? (uint32_t)cpus : 1;
	r = read_memtotal(&h.memory_total_kib);
	if (r < 0)
		return r;
	*ret = h;
	return 0;
}

uint64_t sim_host_cpumask(const struct sim_host *h)
{
	return h->cpu_count >= 64 ? UINT64_MAX : (UINT64_C(1) << h->cpu_count) - 1;
}
