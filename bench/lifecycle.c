/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lifecycle throughput on the simulated hypervisor, through the public API:
 * N full cycles (install, start, clean_shutdown, uninstall), each operation
 * committed to the store, then get_all_records over N installed VMs.
 * Prints one JSON object of figures; bench/run.py compares it with
 * libvirt's test driver.
 *
 *   lifecycle STATE_DIR [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xvm/xvm.h>

#include "bench.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s STATE_DIR [N]\n", argv[0]);
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 10000;
	char uri[4096];
	snprintf(uri, sizeof(uri), "sim://%s", argv[1]);
	xvm_conn *c;
	check(xvm_connect(uri, 0, &c), "connect");

	double t0 = now();
	for (int i = 0; i < n; i++) {
		char name[32], *vm;
		snprintf(name, sizeof(name), "cycle-%d", i);
		check(xvm_vm_install(c, "sim test", name, 0, &vm), "install");
		check(xvm_vm_start(c, vm, 0), "start");
		check(xvm_vm_clean_shutdown(c, vm), "clean_shutdown");
		check(xvm_vm_uninstall(c, vm), "uninstall");
		free(vm);
	}
	double cycle_s = now() - t0;

	t0 = now();
	for (int i = 0; i < n; i++) {
		char name[32], *vm;
		snprintf(name, sizeof(name), "vm-%05d", i);
		check(xvm_vm_install(c, "sim test", name, 0, &vm), "install");
		free(vm);
	}
	double install_s = now() - t0;

	const int list_runs = 5;
	double best = 1e9;
	size_t count = 0;
	for (int k = 0; k < list_runs; k++) {
		struct json_object *all;
		t0 = now();
		check(xvm_object_get_all_records(c, "VM", &all), "get_all_records");
		double t = now() - t0;
		count = (size_t)json_object_object_length(all);
		json_object_put(all);
		if (t < best)
			best = t;
	}
	printf("{\"n\": %d, \"cycles_per_s\": %.1f, \"ops_per_s\": %.1f, \"installs_per_s\": %.1f, "
	       "\"get_all_records_ms\": %.2f, \"records\": %zu}\n",
	       n, n / cycle_s, 4 * n / cycle_s, n / install_s, best * 1000, count);
	xvm_disconnect(c);
	return 0;
}
