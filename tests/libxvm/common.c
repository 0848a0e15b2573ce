/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define T_LIFECYCLE_FIXTURE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hypercall.h"

char *t_tmpdir(void)
{
	char *d = strdup("/tmp/xvm-libtest-XXXXXX");
	cr_assert(d && mkdtemp(d), "mkdtemp: %s", strerror(errno));
	return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void t_rmdir(char *state_dir)
{
	if (state_dir)
		nftw(state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(state_dir);
}

void t_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s: %s", path, strerror(errno));
	cr_assert(fputs(text, f) >= 0);
	cr_assert_eq(fclose(f), 0);
}

char *t_read_stream(FILE *f, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	char chunk[4096];
	size_t k;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, k, m);
	fclose(m);
	if (len)
		*len = n;
	return buf;
}

char *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = t_read_stream(f, len);
	fclose(f);
	return buf;
}

const char *t_uri(const char *state_dir)
{
	static _Thread_local char buf[4200];
	snprintf(buf, sizeof(buf), "sim://%s", state_dir);
	return buf;
}

const char *t_errname(void)
{
	const struct xvm_error *e = xvm_last_error();
	return e ? e->name : "(none)";
}

const char *t_errmsg(void)
{
	const struct xvm_error *e = xvm_last_error();
	return e ? e->message : "(none)";
}

xvm_conn *t_connect(const char *state_dir)
{
	xvm_conn *c = NULL;
	int r = xvm_connect(t_uri(state_dir), 0, &c);
	cr_assert_eq(r, 0, "connect %s: %d %s: %s", t_uri(state_dir), r, t_errname(), t_errmsg());
	cr_assert_not_null(c);
	return c;
}

void t_check_error(const char *what, int r, int code, int nparams, ...)
{
	const struct xvm_error *e = xvm_last_error();
	cr_assert_eq(r, -code, "%s: returned %d (%s: %s), expected -%d (%s)", what, r, t_errname(), t_errmsg(),
		     code, xvm_error_code_name(code));
	cr_assert_not_null(e, "%s: no last error", what);
	cr_assert_eq(e->code, code, "%s: last error code %d, expected %d", what, e->code, code);
	cr_assert_str_eq(e->name, xvm_error_code_name(code), "%s", what);
	cr_assert(e->message && *e->message, "%s: empty message", what);
	if (nparams < 0)
		return;
	cr_assert_eq(e->nparams, (size_t)nparams, "%s: %s has %zu params, expected %d (message: %s)", what,
		     e->name, e->nparams, nparams, e->message);
	va_list ap;
	va_start(ap, nparams);
	for (int i = 0; i < nparams; i++) {
		const char *want = va_arg(ap, const char *);
		if (want)
			cr_assert_str_eq(e->params[i], want, "%s: %s param %d is '%s', expected '%s'", what,
					 e->name, i, e->params[i], want);
	}
	va_end(ap);
}

void t_check_bad_power(const char *what, int r, const char *vm_ref, const char *expected, const char *actual)
{
	t_check_error(what, r, XVM_ERR_VM_BAD_POWER_STATE, 3, vm_ref, NULL, NULL);
	const struct xvm_error *e = xvm_last_error();
	if (expected)
		cr_assert(strcasecmp(e->params[1], expected) == 0, "%s: the expected state is '%s', wanted '%s'",
			  what, e->params[1], expected);
	cr_assert(strcasecmp(e->params[2], actual) == 0, "%s: the actual state is '%s', wanted '%s'", what,
		  e->params[2], actual);
}

char *t_install(xvm_conn *c, const char *name)
{
	char *ref = NULL;
	T_OK(xvm_vm_install(c, "sim test", name, 0, &ref));
	cr_assert_not_null(ref);
	return ref;
}

struct json_object *t_get(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	struct json_object *v = NULL;
	int r = xvm_object_get_field(c, cls, ref, field, &v);
	cr_assert_eq(r, 0, "get %s.%s of %s: %d %s: %s", cls, field, ref, r, t_errname(), t_errmsg());
	return v;
}

const char *t_gets(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	static _Thread_local char *ring[32];
	static _Thread_local unsigned next;
	struct json_object *v = t_get(c, cls, ref, field);
	cr_assert(json_object_is_type(v, json_type_string), "%s.%s is not a string", cls, field);
	unsigned i = next++ % 32;
	free(ring[i]);
	ring[i] = strdup(json_object_get_string(v));
	json_object_put(v);
	return ring[i];
}

int64_t t_geti(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	struct json_object *v = t_get(c, cls, ref, field);
	cr_assert(json_object_is_type(v, json_type_int), "%s.%s is not an int: %s", cls, field,
		  json_object_to_json_string(v));
	int64_t n = json_object_get_int64(v);
	json_object_put(v);
	return n;
}

bool t_getb(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	struct json_object *v = t_get(c, cls, ref, field);
	cr_assert(json_object_is_type(v, json_type_boolean), "%s.%s is not a bool", cls, field);
	bool b = json_object_get_boolean(v);
	json_object_put(v);
	return b;
}

int t_set_json(xvm_conn *c, const char *cls, const char *ref, const char *field, const char *json_text)
{
	struct json_object *v = json_tokener_parse(json_text);
	cr_assert(v || strcmp(json_text, "null") == 0, "bad JSON in test: %s", json_text);
	int r = xvm_object_set_field(c, cls, ref, field, v);
	json_object_put(v);
	return r;
}

int t_set_str(xvm_conn *c, const char *cls, const char *ref, const char *field, const char *value)
{
	struct json_object *v = json_object_new_string(value);
	int r = xvm_object_set_field(c, cls, ref, field, v);
	json_object_put(v);
	return r;
}

int t_set_int(xvm_conn *c, const char *cls, const char *ref, const char *field, int64_t value)
{
	struct json_object *v = json_object_new_int64(value);
	int r = xvm_object_set_field(c, cls, ref, field, v);
	json_object_put(v);
	return r;
}

bool t_has(struct json_object *array, const char *s)
{
	cr_assert(json_object_is_type(array, json_type_array), "not an array");
	for (size_t i = 0; i < json_object_array_length(array); i++) {
		struct json_object *v = json_object_array_get_idx(array, i);
		if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), s) == 0)
			return true;
	}
	return false;
}

size_t t_len(struct json_object *array)
{
	cr_assert(json_object_is_type(array, json_type_array), "not an array: %s",
		  json_object_to_json_string(array));
	return json_object_array_length(array);
}

unsigned t_hv_domains(const char *state_dir, const char *uuid)
{
	char *saved = getenv("XVM_HC_FAULT") ? strdup(getenv("XVM_HC_FAULT")) : NULL;
	unsetenv("XVM_HC_FAULT");
	struct xvm_hv *hv = NULL;
	int r = xvm_hv_open("sim", state_dir, 0, &hv);
	if (saved) {
		setenv("XVM_HC_FAULT", saved, 1);
		free(saved);
	}
	cr_assert_eq(r, 0, "xvm_hv_open(sim, %s): %d %s", state_dir, r, xvm_hv_last_error(NULL));
	static struct xvm_hc_domain_info doms[256];
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0), .capacity = 256, .domains = doms };
	r = xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l);
	cr_assert_eq(r, 0, "domain_list: %d %s", r, xvm_hv_last_error(hv));
	unsigned n = 0;
	for (uint32_t i = 0; i < l.count; i++)
		if (!uuid || strcmp(doms[i].uuid, uuid) == 0)
			n++;
	xvm_hv_close(hv);
	return n;
}

struct json_object *t_all_refs(xvm_conn *c, const char *cls)
{
	struct json_object *refs = NULL;
	T_OK(xvm_object_get_all(c, cls, &refs));
	t_len(refs);
	return refs;
}

size_t t_count(xvm_conn *c, const char *cls)
{
	struct json_object *refs = t_all_refs(c, cls);
	size_t n = t_len(refs);
	json_object_put(refs);
	return n;
}

const char *t_first(struct json_object *refs)
{
	return json_object_get_string(json_object_array_get_idx(refs, 0));
}

/* Calls method with a JSON-text argument array. */
int t_call(xvm_conn *c, const char *method, const char *args_json, struct json_object **res)
{
	struct json_object *args = json_tokener_parse(args_json);
	cr_assert_not_null(args, "bad JSON in test: %s", args_json);
	int r = xvm_call(c, method, args, res);
	json_object_put(args);
	return r;
}


/* --- the lifecycle fixture (test_lifecycle.c, test_recovery.c) ------------------ */

char *dir;
xvm_conn *conn;
char *vm;
char vm_uuid[64];
bool preserved_crash; /* the VM's domain crashed and is kept: Paused */

void t_lifecycle_setup(void)
{
	unsetenv("XVM_HC_FAULT");
	dir = t_tmpdir();
	conn = t_connect(dir);
	vm = t_install(conn, "vm1");
	snprintf(vm_uuid, sizeof(vm_uuid), "%s", t_gets(conn, "VM", vm, "uuid"));
}

void t_lifecycle_teardown(void)
{
	free(vm);
	vm = NULL;
	conn = xvm_disconnect(conn);
	unsetenv("XVM_HC_FAULT");
	t_rmdir(dir);
	dir = NULL;
}


/* --- the power operations and what each state allows --------------------------- */

const char *const op_names[NOPS] = { "start", "pause", "unpause", "clean_shutdown", "clean_reboot",
					     "hard_shutdown", "hard_reboot", "suspend", "resume", "destroy" };

int do_op(xvm_conn *c, const char *ref, int op)
{
	switch (op) {
	case OP_START: return xvm_vm_start(c, ref, 0);
	case OP_PAUSE: return xvm_vm_pause(c, ref);
	case OP_UNPAUSE: return xvm_vm_unpause(c, ref);
	case OP_CLEAN_SHUTDOWN: return xvm_vm_clean_shutdown(c, ref);
	case OP_CLEAN_REBOOT: return xvm_vm_clean_reboot(c, ref);
	case OP_HARD_SHUTDOWN: return xvm_vm_hard_shutdown(c, ref);
	case OP_HARD_REBOOT: return xvm_vm_hard_reboot(c, ref);
	case OP_SUSPEND: return xvm_vm_suspend(c, ref);
	case OP_RESUME: return xvm_vm_resume(c, ref, 0);
	case OP_DESTROY: return xvm_vm_destroy(c, ref);
	}
	return -1;
}

/* XenAPI's rules: the power operations each state allows. */
bool allowed_in(int op, const char *state)
{
	static const char *const rules[NOPS] = {
		[OP_START] = "Halted", [OP_PAUSE] = "Running", [OP_UNPAUSE] = "Paused",
		[OP_CLEAN_SHUTDOWN] = "Running", [OP_CLEAN_REBOOT] = "Running",
		[OP_HARD_SHUTDOWN] = "Running Paused Suspended", [OP_HARD_REBOOT] = "Running Paused",
		[OP_SUSPEND] = "Running", [OP_RESUME] = "Suspended", [OP_DESTROY] = "Halted",
	};
	return strcasestr(rules[op], state) != NULL; /* error params may say "running" */
}

/* Domains the sim runs for uuid; *state of the last one found. */
unsigned hv_domains(const char *uuid, enum xvm_hc_domain_state *state, uint32_t *domid)
{
	struct xvm_hv *hv = NULL;
	char *saved = getenv("XVM_HC_FAULT") ? strdup(getenv("XVM_HC_FAULT")) : NULL;
	unsetenv("XVM_HC_FAULT");
	int r = xvm_hv_open("sim", dir, 0, &hv);
	if (saved) {
		setenv("XVM_HC_FAULT", saved, 1);
		free(saved);
	}
	cr_assert_eq(r, 0, "xvm_hv_open: %s", xvm_hv_last_error(NULL));
	static struct xvm_hc_domain_info doms[64];
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0), .capacity = 64, .domains = doms };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	unsigned n = 0;
	for (uint32_t i = 0; i < l.count; i++) {
		if (strcmp(doms[i].uuid, uuid) != 0)
			continue;
		n++;
		if (state)
			*state = doms[i].state;
		if (domid)
			*domid = doms[i].domid;
	}
	xvm_hv_close(hv);
	return n;
}

/*
 * Checks the VM is in `state` as seen through c: power_state, domid, no
 * operation in flight, allowed_operations exactly XenAPI's power operations
 * for the state, and the sim running one matching domain or none.
 */
void check_state(xvm_conn *c, const char *ref, const char *state)
{
	cr_assert_str_eq(t_power(c, ref), state, "power_state");
	struct json_object *rec = NULL;
	T_OK(xvm_object_get_record(c, "VM", ref, &rec));
	int64_t domid = json_object_get_int64(json_object_object_get(rec, "domid"));
	bool live = strcmp(state, "Running") == 0 || strcmp(state, "Paused") == 0;
	if (live)
		cr_assert_geq(domid, 0, "a %s VM has domid %lld", state, (long long)domid);
	else
		cr_assert_eq(domid, -1, "a %s VM has domid %lld", state, (long long)domid);
	struct json_object *cur = json_object_object_get(rec, "current_operations");
	cr_assert_eq(json_object_object_length(cur), 0, "operations in flight: %s", json_object_to_json_string(cur));
	struct json_object *allowed = json_object_object_get(rec, "allowed_operations");
	for (int op = 0; op < NOPS; op++)
		cr_assert_eq(t_has(allowed, op_names[op]), allowed_in(op, state), "%s VM: allowed_operations %s %s: %s",
			     state, allowed_in(op, state) ? "lacks" : "has", op_names[op],
			     json_object_to_json_string(allowed));
	if (live)
		cr_assert_str_neq(json_object_get_string(json_object_object_get(rec, "resident_on")), "OpaqueRef:NULL");
	json_object_put(rec);

	enum xvm_hc_domain_state ds = 0;
	uint32_t hv_domid = 0;
	unsigned n = hv_domains(vm_uuid, &ds, &hv_domid);
	if (strcmp(ref, vm) == 0) {
		cr_assert_eq(n, live ? 1u : 0u, "%s VM: the sim runs %u domains for it", state, n);
		if (live) {
			cr_assert_eq(hv_domid, (uint32_t)domid, "domid %lld, the sim's %u", (long long)domid, hv_domid);
			/* a crashed domain kept for inspection (preserve) shows as Paused */
			enum xvm_hc_domain_state want = strcmp(state, "Paused") != 0 ? XVM_HC_STATE_RUNNING
							: preserved_crash ? XVM_HC_STATE_SHUTDOWN
									  : XVM_HC_STATE_PAUSED;
			cr_assert_eq(ds, want, "sim domain state %d for a %s VM", ds, state);
		}
	}
}

