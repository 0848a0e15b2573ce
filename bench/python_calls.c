/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C side of bench/python_calls.py: the same calls the Python figures
 * are compared with, from C, on the same state directory. Installs VMs
 * from "sim test" until there are N, then times get_record (per call, over
 * the VMs in turn) and get_all_records of the VM class (per listing), each
 * the best of a few rounds, and prints them as one JSON object. Times are
 * the calling thread's CPU time, as in python_calls.py: on a shared machine
 * wall time mostly measures the neighbours.
 *
 *   bench-python-calls STATE_DIR N CALLS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xvm/xvm.h>

#include "bench.h"

#define ROUNDS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s STATE_DIR N CALLS\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[2]), calls = atoi(argv[3]);
	char uri[4096];
	snprintf(uri, sizeof(uri), "sim://%s", argv[1]);
	xvm_conn *c;
	check(xvm_connect(uri, 0, &c), "connect");

	/* The templates are VMs too: count what get_all_records will list. */
	struct json_object *all;
	check(xvm_object_get_all_records_fields(c, "VM", (const char *const[]){"is_a_template", NULL}, &all), "list");
	int have = 0;
	json_object_object_foreach(all, ref0, rec0) {
		(void)ref0;
		have += !json_object_get_boolean(json_object_object_get(rec0, "is_a_template"));
	}
	json_object_put(all);
	for (int i = have; i < n; i++) {
		char name[32], *vm;
		snprintf(name, sizeof(name), "bench-%05d", i);
		check(xvm_vm_install(c, "sim test", name, 0, &vm), "install");
		free(vm);
	}

	struct json_object *refs;
	check(xvm_object_get_all(c, "VM", &refs), "get_all");
	size_t nrefs = json_object_array_length(refs);

	double best_call = 1e9, best_list = 1e9;
	for (int k = 0; k < ROUNDS; k++) {
		double t0 = now();
		/* Freeing the result is part of a call's cost, in C as in Python. */
		for (int i = 0; i < calls; i++) {
			struct json_object *rec;
			const char *ref = json_object_get_string(json_object_array_get_idx(refs, (size_t)i % nrefs));
			check(xvm_object_get_record(c, "VM", ref, &rec), "get_record");
			json_object_put(rec);
		}
		double t = (now() - t0) / calls;
		if (t < best_call)
			best_call = t;
		t0 = now();
		check(xvm_object_get_all_records(c, "VM", &all), "get_all_records");
		json_object_put(all);
		t = now() - t0;
		if (t < best_list)
			best_list = t;
	}
	json_object_put(refs);
	printf("{\"n\": %d, \"get_record_us\": %.3f, \"get_all_records_ms\": %.2f}\n", n, best_call * 1e6,
	       best_list * 1e3);
	xvm_disconnect(c);
	return 0;
}
