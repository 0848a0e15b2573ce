/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C side of bench/python_calls.py: the same calls the Python figures
 * are compared with, from C, on the same state directory. Installs VMs
 * from "sim test" until there are N and makes each measurement once
 * untimed; then, for each name read on stdin, makes that measurement and
 * prints it as a JSON line:
 *   get_record              us per call, over CALLS VMs in turn
 *   get_all_records_fields  ms, of VM on is_a_template: what conn.vms.all() calls
 *   get_all_records         ms, of VM: what conn.vms.records() calls
 * One process makes them all, as the Python side does, and python_calls.py
 * asks for each right after the same call from Python: both run with warm
 * caches and heaps, under the same load. Times are the calling thread's CPU
 * time, as in python_calls.py: on a shared machine wall time mostly
 * measures the neighbours.
 *
 *   bench-python-calls STATE_DIR N CALLS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xvm/xvm.h>

#include "bench.h"

static const char *const template_field[] = {"is_a_template", NULL};

static xvm_conn *c;
static struct json_object *refs;
static int calls;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void get_records(int n)
{
	size_t nrefs = json_object_array_length(refs);
	for (int i = 0; i < n; i++) {
		struct json_object *rec;
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, (size_t)i % nrefs));
		check(xvm_object_get_record(c, "VM", ref, &rec), "get_record");
		json_object_put(rec);
	}
}

/* Freeing the result is part of a call's cost, in C as in Python. */
static double get_record_us(void)
{
	get_records(calls / 10); /* back in the caches after the other side's turn, as in Python */
	double t0 = now();
	get_records(calls);
	return (now() - t0) / calls * 1e6;
}

static double get_all_records_fields_ms(void)
{
	struct json_object *res;
	double t0 = now();
	check(xvm_object_get_all_records_fields(c, "VM", template_field, &res), "get_all_records_fields");
	json_object_put(res);
	return (now() - t0) * 1e3;
}

static double get_all_records_ms(void)
{
	struct json_object *res;
	double t0 = now();
	check(xvm_object_get_all_records(c, "VM", &res), "get_all_records");
	json_object_put(res);
	return (now() - t0) * 1e3;
}

static const struct {
	const char *name;
	double (*measure)(void);
} measurements[] = {
	{"get_record", get_record_us},
	{"get_all_records_fields", get_all_records_fields_ms},
	{"get_all_records", get_all_records_ms},
};

#define NMEASUREMENTS (sizeof(measurements) / sizeof(measurements[0]))

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s STATE_DIR N CALLS\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[2]);
	calls = atoi(argv[3]);
	if (n < 1 || calls < 1) {
		fprintf(stderr, "%s: N and CALLS must be positive\n", argv[0]);
		return 2;
	}
	char uri[4096];
	snprintf(uri, sizeof(uri), "sim://%s", argv[1]);
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

	check(xvm_object_get_all(c, "VM", &refs), "get_all");
	for (size_t k = 0; k < NMEASUREMENTS; k++)
		measurements[k].measure();
	printf("{\"n\": %d}\n", n);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		size_t k = 0;
		while (k < NMEASUREMENTS && strcmp(line, measurements[k].name) != 0)
			k++;
		if (k == NMEASUREMENTS) {
			fprintf(stderr, "%s: no measurement %s\n", argv[0], line);
			return 2;
		}
		printf("{\"%s\": %.3f}\n", line, measurements[k].measure());
		fflush(stdout);
	}
	json_object_put(refs);
	xvm_disconnect(c);
	return 0;
}
