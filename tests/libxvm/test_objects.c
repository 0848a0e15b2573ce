/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The object model through the public API on sim:///DIR: bootstrap objects,
 * the calls every class answers, class metadata, the method list and
 * per-thread errors (fields, maps, sets and VM constraints: test_fields.c). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static char *dir;
static xvm_conn *conn;

static void setup(void)
{
	dir = t_tmpdir();
	conn = t_connect(dir);
}

static void teardown(void)
{
	conn = xvm_disconnect(conn);
	t_rmdir(dir);
	dir = NULL;
}

TestSuite(objects, .init = setup, .fini = teardown);

/* --- bootstrap -------------------------------------------------------------- */

Test(objects, first_use_creates_pool_host_and_local_sr)
{
	struct json_object *pools = t_all_refs(conn, "pool"), *hosts = t_all_refs(conn, "host");
	struct json_object *srs = t_all_refs(conn, "SR"), *pbds = t_all_refs(conn, "PBD");
	cr_assert_eq(t_len(pools), 1);
	cr_assert_eq(t_len(hosts), 1);
	cr_assert_eq(t_len(srs), 1);
	cr_assert_eq(t_len(pbds), 1);
	const char *pool = t_first(pools), *host = t_first(hosts), *sr = t_first(srs), *pbd = t_first(pbds);

	char hostname[256] = { 0 };
	cr_assert_eq(gethostname(hostname, sizeof(hostname) - 1), 0);
	cr_assert_str_eq(t_gets(conn, "host", host, "hostname"), hostname);
	cr_assert_str_eq(t_gets(conn, "host", host, "name_label"), hostname);
	struct json_object *cpu = t_get(conn, "host", host, "cpu_info"), *count;
	cr_assert(json_object_object_get_ex(cpu, "cpu_count", &count), "cpu_info has no cpu_count");
	char want[16];
	snprintf(want, sizeof(want), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	cr_assert_str_eq(json_object_get_string(count), want);
	json_object_put(cpu);
	cr_assert_gt(t_geti(conn, "host", host, "memory_total"), 0);

	cr_assert_str_eq(t_gets(conn, "SR", sr, "name_label"), "Local storage");
	cr_assert_str_eq(t_gets(conn, "SR", sr, "type"), "file");
	cr_assert_str_eq(t_gets(conn, "PBD", pbd, "host"), host);
	cr_assert_str_eq(t_gets(conn, "PBD", pbd, "SR"), sr);
	cr_assert(t_getb(conn, "PBD", pbd, "currently_attached"));
	cr_assert_str_eq(t_gets(conn, "pool", pool, "master"), host);
	cr_assert_str_eq(t_gets(conn, "pool", pool, "default_SR"), sr);
	/* reverse fields follow */
	struct json_object *host_pbds = t_get(conn, "host", host, "PBDs"), *sr_pbds = t_get(conn, "SR", sr, "PBDs");
	cr_assert_eq(t_len(host_pbds), 1);
	cr_assert(t_has(host_pbds, pbd));
	cr_assert(t_has(sr_pbds, pbd));
	json_object_put(host_pbds);
	json_object_put(sr_pbds);
	json_object_put(pools);
	json_object_put(hosts);
	json_object_put(srs);
	json_object_put(pbds);
}

Test(objects, second_connect_does_not_duplicate)
{
	struct json_object *pools = t_all_refs(conn, "pool");
	char *pool = strdup(t_first(pools));
	json_object_put(pools);
	xvm_conn *c2 = t_connect(dir); /* while the first is open */
	conn = xvm_disconnect(conn);
	xvm_conn *c3 = t_connect(dir); /* and after it closed */
	static const char *const classes[] = { "pool", "host", "SR", "PBD" };
	for (size_t i = 0; i < 4; i++) {
		struct json_object *a = t_all_refs(c2, classes[i]), *b = t_all_refs(c3, classes[i]);
		cr_assert_eq(t_len(a), 1, "%zu %s objects", t_len(a), classes[i]);
		cr_assert_eq(t_len(b), 1, "%zu %s objects", t_len(b), classes[i]);
		cr_assert_str_eq(t_first(a), t_first(b));
		json_object_put(a);
		json_object_put(b);
	}
	pools = t_all_refs(c3, "pool");
	cr_assert_str_eq(t_first(pools), pool);
	json_object_put(pools);
	free(pool);
	xvm_disconnect(c2);
	xvm_disconnect(c3);
}

Test(objects, connect_rejects_bad_uris_and_flags)
{
	xvm_conn *c = NULL;
	T_ERR(xvm_connect("sim://relative/path", 0, &c), XVM_ERR_URI_INVALID, 1, "sim://relative/path");
	T_ERR(xvm_connect("sim://", 0, &c), XVM_ERR_URI_INVALID, 1, "sim://");
	T_ERR(xvm_connect("sim:///", 0, &c), XVM_ERR_URI_INVALID, 1, "sim:///");
	T_ERR(xvm_connect("sim:///tmp/a/../b", 0, &c), XVM_ERR_URI_INVALID, 1, "sim:///tmp/a/../b");
	T_ERR(xvm_connect("gopher:///tmp/x", 0, &c), XVM_ERR_URI_INVALID, 1, "gopher:///tmp/x");
	T_ERR(xvm_connect(t_uri(dir), 0x80, &c), XVM_ERR_INVALID_VALUE, -1);
	cr_assert_null(c);
	cr_assert_str_eq(xvm_conn_get_uri(conn), t_uri(dir));
}

/* --- every class answers the class calls ------------------------------------- */

Test(objects, every_class_answers_class_calls)
{
	char *vm = t_install(conn, "probe");
	free(vm);
	cr_assert_eq(xvm_class_count(), 13);
	for (size_t i = 0; i < xvm_class_count(); i++) {
		const struct xvm_class_info *ci = xvm_class_at(i);
		const char *cls = ci->name;
		struct json_object *refs = t_all_refs(conn, cls), *records = NULL;
		T_OK(xvm_object_get_all_records(conn, cls, &records));
		cr_assert(json_object_is_type(records, json_type_object), "%s.get_all_records", cls);
		cr_assert_eq((size_t)json_object_object_length(records), t_len(refs), "%s: get_all and get_all_records differ",
			     cls);
		bool named = xvm_class_field(ci, "name_label") != NULL;
		for (size_t k = 0; k < t_len(refs); k++) {
			const char *ref = json_object_get_string(json_object_array_get_idx(refs, k));
			struct json_object *rec = NULL, *in_all;
			T_OK(xvm_object_get_record(conn, cls, ref, &rec));
			cr_assert(json_object_object_get_ex(records, ref, &in_all), "%s %s missing from get_all_records",
				  cls, ref);
			/* the record has exactly the class's fields */
			cr_assert_eq((size_t)json_object_object_length(rec), ci->nfields, "%s record has %d fields, class %zu",
				     cls, json_object_object_length(rec), ci->nfields);
			for (size_t f = 0; f < ci->nfields; f++) {
				const char *fname = xvm_class_field_at(ci, f)->name;
				cr_assert(json_object_object_get_ex(rec, fname, NULL), "%s record lacks %s", cls, fname);
				cr_assert(json_object_object_get_ex(in_all, fname, NULL), "%s get_all_records lacks %s", cls,
					  fname);
			}
			const char *uuid = json_object_get_string(json_object_object_get(rec, "uuid"));
			char *by_uuid = NULL;
			T_OK(xvm_object_get_by_uuid(conn, cls, uuid, &by_uuid));
			cr_assert_str_eq(by_uuid, ref);
			free(by_uuid);
			if (named) {
				const char *label = json_object_get_string(json_object_object_get(rec, "name_label"));
				struct json_object *by_name = NULL;
				T_OK(xvm_object_get_by_name_label(conn, cls, label, &by_name));
				cr_assert(t_has(by_name, ref), "%s.get_by_name_label(%s) lacks %s", cls, label, ref);
				json_object_put(by_name);
			}
			json_object_put(rec);
		}
		char *none = (char *)"untouched";
		T_ERR(xvm_object_get_by_uuid(conn, cls, "00000000-0000-4000-8000-000000000000", &none),
		      XVM_ERR_UUID_INVALID, 2, cls, "00000000-0000-4000-8000-000000000000");
		T_ERR(xvm_object_get_by_uuid(conn, cls, "not-a-uuid", &none), XVM_ERR_UUID_INVALID, 2, cls, "not-a-uuid");
		cr_assert_str_eq(none, "untouched");
		struct json_object *rec = NULL;
		T_ERR(xvm_object_get_record(conn, cls, "OpaqueRef:nonexistent", &rec), XVM_ERR_HANDLE_INVALID, 2, cls,
		      "OpaqueRef:nonexistent");
		T_ERR(xvm_object_get_record(conn, cls, "garbage", &rec), XVM_ERR_HANDLE_INVALID, 2, cls, "garbage");
		T_ERR(xvm_object_get_field(conn, cls, "OpaqueRef:nonexistent", "uuid", &rec), XVM_ERR_HANDLE_INVALID, 2,
		      cls, "OpaqueRef:nonexistent");
		cr_assert_null(rec, "output written on failure");
		if (named) {
			struct json_object *none_named = NULL;
			T_OK(xvm_object_get_by_name_label(conn, cls, "no object has this name", &none_named));
			cr_assert_eq(t_len(none_named), 0);
			json_object_put(none_named);
		}
		json_object_put(refs);
		json_object_put(records);
	}
}

Test(objects, get_by_name_label_finds_all_with_that_name)
{
	char *a = t_install(conn, "twin"), *b = t_install(conn, "twin"), *c = t_install(conn, "other");
	struct json_object *refs = NULL;
	T_OK(xvm_object_get_by_name_label(conn, "VM", "twin", &refs));
	cr_assert_eq(t_len(refs), 2);
	cr_assert(t_has(refs, a));
	cr_assert(t_has(refs, b));
	cr_assert_not(t_has(refs, c));
	json_object_put(refs);
	free(a);
	free(b);
	free(c);
}

Test(objects, bad_ref_on_set_is_handle_invalid)
{
	T_ERR(t_set_str(conn, "VM", "OpaqueRef:nonexistent", "name_label", "x"), XVM_ERR_HANDLE_INVALID, 2, "VM",
	      "OpaqueRef:nonexistent");
	T_ERR(xvm_object_add_to_field(conn, "VM", "OpaqueRef:nonexistent", "other_config", "k", "v"),
	      XVM_ERR_HANDLE_INVALID, 2, "VM", "OpaqueRef:nonexistent");
	T_ERR(xvm_vm_start(conn, "OpaqueRef:nonexistent", 0), XVM_ERR_HANDLE_INVALID, 2, "VM", "OpaqueRef:nonexistent");
	/* a host ref is not a VM */
	struct json_object *hosts = t_all_refs(conn, "host");
	T_ERR(xvm_object_get_record(conn, "VM", t_first(hosts), &(struct json_object *){ NULL }), XVM_ERR_HANDLE_INVALID,
	      2, "VM", t_first(hosts));
	json_object_put(hosts);
}

/* --- class metadata ------------------------------------------------------------------ */

Test(objects, class_metadata)
{
	static const char *const names[] = { "pool", "host", "VM", "VM_metrics", "SR", "PBD", "VDI", "VBD",
					     "network", "VIF", "task", "console", "VTPM" };
	cr_assert_eq(xvm_class_count(), sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct xvm_class_info *ci = xvm_class_lookup(names[i]);
		cr_assert_not_null(ci, "no class %s", names[i]);
		cr_assert_str_eq(ci->name, names[i]);
		cr_assert(ci->description && *ci->description);
		cr_assert_gt(ci->nfields, 1);
		cr_assert_null(xvm_class_field_at(ci, ci->nfields));
		cr_assert_not_null(xvm_class_field(ci, "uuid"), "%s has no uuid", names[i]);
		for (size_t f = 0; f < ci->nfields; f++) {
			const struct xvm_field_info *fi = xvm_class_field_at(ci, f);
			cr_assert_not_null(fi);
			cr_assert_eq(xvm_class_field(ci, fi->name), fi, "%s.%s: lookup by name differs", ci->name, fi->name);
			for (size_t g = 0; g < f; g++)
				cr_assert_str_neq(xvm_class_field_at(ci, g)->name, fi->name, "%s.%s twice", ci->name, fi->name);
			if (fi->type == XVM_TYPE_ENUM)
				cr_assert(fi->enum_values && fi->enum_values[0], "%s.%s: enum without values", ci->name,
					  fi->name);
			if (fi->type == XVM_TYPE_REF || (fi->type == XVM_TYPE_SET && fi->elem_type == XVM_TYPE_REF))
				cr_assert_not_null(xvm_class_lookup(fi->ref_class), "%s.%s refers to unknown class %s",
						   ci->name, fi->name, fi->ref_class ? fi->ref_class : "(null)");
		}
	}
	size_t seen = 0;
	for (size_t i = 0; i < xvm_class_count(); i++) {
		const struct xvm_class_info *ci = xvm_class_at(i);
		cr_assert_eq(xvm_class_lookup(ci->name), ci);
		seen++;
	}
	cr_assert_eq(seen, xvm_class_count());
	cr_assert_null(xvm_class_at(xvm_class_count()));
	cr_assert_null(xvm_class_lookup("vm"), "class names are case-sensitive, as XenAPI's");
	cr_assert_null(xvm_class_lookup("Nope"));
	cr_assert_null(xvm_class_lookup(NULL));

	const struct xvm_class_info *vm = xvm_class_lookup("VM");
	cr_assert_null(xvm_class_field(vm, "no_such_field"));
	const struct xvm_field_info *ps = xvm_class_field(vm, "power_state");
	cr_assert_eq(ps->type, XVM_TYPE_ENUM);
	cr_assert_eq(ps->qualifier, XVM_QUAL_RO_RUNTIME);
	static const char *const states[] = { "Halted", "Paused", "Running", "Suspended" };
	for (size_t i = 0; i < 4; i++) {
		bool found = false;
		for (const char *const *v = ps->enum_values; *v; v++)
			found |= strcmp(*v, states[i]) == 0;
		cr_assert(found, "power_state lacks %s", states[i]);
	}
	const struct xvm_field_info *f = xvm_class_field(vm, "name_label");
	cr_assert_eq(f->type, XVM_TYPE_STRING);
	cr_assert_eq(f->qualifier, XVM_QUAL_RW);
	f = xvm_class_field(vm, "VCPUs_max");
	cr_assert_eq(f->type, XVM_TYPE_INT);
	cr_assert_eq(f->qualifier, XVM_QUAL_RW);
	f = xvm_class_field(vm, "other_config");
	cr_assert_eq(f->type, XVM_TYPE_MAP);
	f = xvm_class_field(vm, "tags");
	cr_assert_eq(f->type, XVM_TYPE_SET);
	cr_assert_eq(f->elem_type, XVM_TYPE_STRING);
	f = xvm_class_field(vm, "VBDs");
	cr_assert_eq(f->type, XVM_TYPE_SET);
	cr_assert_eq(f->elem_type, XVM_TYPE_REF);
	cr_assert_str_eq(f->ref_class, "VBD");
	cr_assert_neq(f->qualifier, XVM_QUAL_RW);
	f = xvm_class_field(vm, "metrics");
	cr_assert_eq(f->type, XVM_TYPE_REF);
	cr_assert_str_eq(f->ref_class, "VM_metrics");
	f = xvm_class_field(vm, "allowed_operations");
	cr_assert_eq(f->type, XVM_TYPE_SET);
	cr_assert_eq(f->elem_type, XVM_TYPE_ENUM);
	f = xvm_class_field(xvm_class_lookup("SR"), "type");
	cr_assert_eq(f->qualifier, XVM_QUAL_RO_CONSTRUCTOR);
	f = xvm_class_field(xvm_class_lookup("VM_metrics"), "start_time");
	cr_assert_eq(f->type, XVM_TYPE_DATETIME);
}

/* --- the method list and argument counts -------------------------------------------- */

Test(objects, list_methods)
{
	struct json_object *m = NULL;
	T_OK(xvm_list_methods(conn, &m));
	size_t n = t_len(m);
	cr_assert_gt(n, 100);
	static const char *const present[] = {
		"VM.get_name_label", "VM.set_name_label", "VM.get_power_state", "VM.start", "VM.clean_shutdown",
		"VM.get_all", "VM.get_all_records", "VM.get_record", "VM.get_by_uuid", "VM.get_by_name_label",
		"VM.add_to_other_config", "VM.remove_from_other_config", "VM.add_tags", "VM.remove_tags",
		"VM.set_memory_static_max", "VM.install", "VM.simulate_guest_action", "host.get_hostname",
		"pool.set_default_SR", "VM_metrics.get_start_time", "SR.get_VDIs", "task.get_all",
	};
	for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++)
		cr_assert(t_has(m, present[i]), "%s is not listed", present[i]);
	static const char *const absent[] = {
		"VM.set_power_state", "VM.set_uuid", "VM.set_domid", "VM.set_allowed_operations", "VM.add_to_tags",
		"VM.add_other_config", "VM.set_VBDs", "host.set_hostname", "SR.set_type", "VM_metrics.get_by_name_label",
		"PBD.get_by_name_label",
	};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		cr_assert_not(t_has(m, absent[i]), "%s is listed", absent[i]);
	/* no duplicates */
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			cr_assert_str_neq(json_object_get_string(json_object_array_get_idx(m, i)),
					  json_object_get_string(json_object_array_get_idx(m, k)), "listed twice");
	json_object_put(m);
}

/* Every listed method exists: with a wrong argument count it says so, it
 * does not claim to be unknown. */
Test(objects, every_listed_method_dispatches)
{
	struct json_object *m = NULL;
	T_OK(xvm_list_methods(conn, &m));
	struct json_object *args = json_object_new_array();
	/* More arguments than any method takes. */
	for (int i = 0; i < 12; i++)
		json_object_array_add(args, json_object_new_string("x"));
	for (size_t i = 0; i < t_len(m); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(m, i));
		struct json_object *res = NULL;
		t_check_error(name, xvm_call(conn, name, args, &res), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3, name,
			      NULL, "12");
		cr_assert_null(res);
	}
	json_object_put(args);
	json_object_put(m);
}

Test(objects, parameter_count_mismatch)
{
	char *vm = t_install(conn, "count");
	struct json_object *res = NULL;
	T_ERR(t_call(conn, "VM.get_name_label", "[]", &res), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3,
	      "VM.get_name_label", "1", "0");
	T_ERR(xvm_call(conn, "VM.get_name_label", NULL, &res), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3,
	      "VM.get_name_label", "1", "0");
	char args[256];
	snprintf(args, sizeof(args), "[\"%s\"]", vm);
	T_ERR(t_call(conn, "VM.start", args, &res), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3, "VM.start", "3", "1");
	cr_assert_str_eq(t_power(conn, vm), "Halted");
	T_ERR(t_call(conn, "VM.get_all", "[\"extra\"]", &res), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3, "VM.get_all",
	      "0", "1");
	snprintf(args, sizeof(args), "[\"%s\", \"a\", \"b\"]", vm);
	T_ERR(t_call(conn, "VM.set_name_label", args, &res), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3,
	      "VM.set_name_label", "2", "3");
	cr_assert_str_eq(t_gets(conn, "VM", vm, "name_label"), "count");
	cr_assert_null(res);
	/* right count, wrong argument type */
	T_ERR(t_call(conn, "VM.get_name_label", "[42]", &res), XVM_ERR_FIELD_TYPE_ERROR, -1);
	T_ERR(t_call(conn, "VM.get_all", "{}", &res), XVM_ERR_FIELD_TYPE_ERROR, -1);
	T_ERR(t_call(conn, "VM.frobnicate", "[]", &res), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "VM.frobnicate");
	T_ERR(t_call(conn, "nodot", "[]", &res), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "nodot");
	/* a successful call clears the last error */
	T_OK(t_call(conn, "VM.get_all", "[]", &res));
	cr_assert_null(xvm_last_error());
	json_object_put(res);
	free(vm);
}

/* --- errors are per thread ---------------------------------------------------------- */

static pthread_barrier_t barrier;

struct thread_result {
	int r;
	char name[64];
	char param1[128];
	size_t nparams;
};

static void *bad_ref_thread(void *arg)
{
	struct thread_result *out = arg;
	struct json_object *rec = NULL;
	out->r = xvm_object_get_record(conn, "VM", "OpaqueRef:thread-a", &rec);
	pthread_barrier_wait(&barrier); /* both failed before either looks */
	const struct xvm_error *e = xvm_last_error();
	if (e) {
		snprintf(out->name, sizeof(out->name), "%s", e->name);
		out->nparams = e->nparams;
		if (e->nparams > 1)
			snprintf(out->param1, sizeof(out->param1), "%s", e->params[1]);
	}
	return NULL;
}

static void *bad_uuid_thread(void *arg)
{
	struct thread_result *out = arg;
	char *ref = NULL;
	out->r = xvm_object_get_by_uuid(conn, "SR", "thread-b-uuid", &ref);
	pthread_barrier_wait(&barrier);
	const struct xvm_error *e = xvm_last_error();
	if (e) {
		snprintf(out->name, sizeof(out->name), "%s", e->name);
		out->nparams = e->nparams;
		if (e->nparams > 1)
			snprintf(out->param1, sizeof(out->param1), "%s", e->params[1]);
	}
	return NULL;
}

Test(objects, last_error_is_per_thread)
{
	/* this thread's own error stays through the others' */
	T_ERR(t_call(conn, "VM.frobnicate", "[]", NULL), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "VM.frobnicate");
	pthread_barrier_init(&barrier, NULL, 2);
	struct thread_result a = { 0 }, b = { 0 };
	pthread_t ta, tb;
	pthread_create(&ta, NULL, bad_ref_thread, &a);
	pthread_create(&tb, NULL, bad_uuid_thread, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&barrier);
	cr_assert_eq(a.r, -XVM_ERR_HANDLE_INVALID);
	cr_assert_str_eq(a.name, "HANDLE_INVALID");
	cr_assert_eq(a.nparams, 2);
	cr_assert_str_eq(a.param1, "OpaqueRef:thread-a");
	cr_assert_eq(b.r, -XVM_ERR_UUID_INVALID);
	cr_assert_str_eq(b.name, "UUID_INVALID");
	cr_assert_eq(b.nparams, 2);
	cr_assert_str_eq(b.param1, "thread-b-uuid");
	const struct xvm_error *mine = xvm_last_error();
	cr_assert_not_null(mine);
	cr_assert_str_eq(mine->name, "MESSAGE_METHOD_UNKNOWN");
	cr_assert_str_eq(mine->params[0], "VM.frobnicate");
}

/* One connection, several threads: concurrent field updates all land. */
struct writer {
	const char *vm;
	int id;
	int failures;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < 20; i++) {
		char key[32];
		snprintf(key, sizeof(key), "t%d-%d", w->id, i);
		if (xvm_object_add_to_field(conn, "VM", w->vm, "other_config", key, "v") < 0)
			w->failures++;
	}
	return NULL;
}

Test(objects, connection_shared_by_threads)
{
	char *vm = t_install(conn, "shared");
	struct writer w[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){ .vm = vm, .id = i };
		pthread_create(&t[i], NULL, writer_thread, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].failures, 0, "thread %d had %d failures", i, w[i].failures);
	}
	struct json_object *oc = t_get(conn, "VM", vm, "other_config");
	cr_assert_eq(json_object_object_length(oc), 1 + 4 * 20, "lost updates: %d keys",
		     json_object_object_length(oc));
	json_object_put(oc);
	free(vm);
}
