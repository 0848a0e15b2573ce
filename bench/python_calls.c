/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C side of bench/python_calls.py: the same calls the Python figures
 * are compared with, from C, on the same state directory. Installs VMs
 * from "sim test" until there are N and makes one untimed round; then, for
 * each line read on stdin, times one round and prints it as a JSON line:
 * get_record over CALLS VMs in turn (per call); get_all_records_fields of
 * VM on is_a_template, what conn.vms.all() calls, and get_all_records of
 * VM, what conn.vms.records() calls (per listing). One process for every
 * round, as the Python side is: the rounds alternate, and both sides run
 * with warm caches and heaps. Times are the calling thread's CPU time, as
 * in python_calls.py: on a shared machine wall time mostly measures the
 * neighbours.
 *
 *   bench-python-calls STATE_DIR N CALLS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xvm/xvm.h>

#include "bench.h"

static const char *const template_field[] = {"is_a_template", NULL};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One round; t[0] seconds per get_record, t[1] and t[2] per listing. */
static void round_times(xvm_conn *c, struct json_object *refs, int calls, double t[3])
{
	size_t nrefs = json_object_array_length(refs);
	struct json_object *res;
	double t0 = now();
	/* Freeing the result is part of a call's cost, in C as in Python. */
	for (int i = 0; i < calls; i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, (size_t)i % nrefs));
		check(xvm_object_get_record(c, "VM", ref, &res), "get_record");
		json_object_put(res);
	}
	t[0] = (now() - t0) / calls;
	t0 = now();
	check(xvm_object_get_all_records_fields(c, "VM", template_field, &res), "get_all_records_fields");
	json_object_put(res);
	t[1] = now() - t0;
	t0 = now();
	check(xvm_object_get_all_records(c, "VM", &res), "get_all_records");
	json_object_put(res);
	t[2] = now() - t0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s STATE_DIR N CALLS\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[2]), calls = atoi(argv[3]);
	if (n < 1 || calls < 1) {
		fprintf(stderr, "%s: N and CALLS must be positive\n", argv[0]);
		return 2;
	}
	char uri[4096];
	snprintf(uri, sizeof(uri), "sim://%s", argv[1]);
	xvm_conn *c;
	check(xvm_connect(uri, 0, &c), "connect");

	/* The templates are VMs too: count what get_all_records will list. */
	struct json_object *all;
	check(xvm_object_get_all_records_fields(c, "VM", template_field, &all), "list");
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
	double t[3];
	round_times(c, refs, calls, t);
	printf("{\"n\": %d}\n", n);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		round_times(c, refs, calls, t);
		printf("{\"get_record_us\": %.3f, \"get_all_records_fields_ms\": %.3f, \"get_all_records_ms\": %.3f}\n",
		       t[0] * 1e6, t[1] * 1e3, t[2] * 1e3);
		fflush(stdout);
	}
	json_object_put(refs);
	xvm_disconnect(c);
	return 0;
}
