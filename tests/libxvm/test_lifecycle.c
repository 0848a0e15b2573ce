/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM lifecycle through the public API on sim:///DIR with the "sim test"
 * template: the power state machine and its refusals, allowed_operations,
 * templates, install, guest actions seen from other connections, operation
 * locks held by others, hypercall faults and processes that die mid-operation.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "core/engine.h"
#include "core/util.h"
#include "hypercall.h"
#include "lifecycle/domain.h"
#include "lifecycle/oplock.h"
#include "lifecycle/vm_op.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

#define SIM_TEST_UUID "3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a14"

static char *dir;
static xvm_conn *conn;
static char *vm;
static char vm_uuid[64];
static bool preserved_crash; /* the VM's domain crashed and is kept: Paused */

static void setup(void)
{
	unsetenv("XVM_HC_FAULT");
	dir = t_tmpdir();
	conn = t_connect(dir);
	vm = t_install(conn, "vm1");
	snprintf(vm_uuid, sizeof(vm_uuid), "%s", t_gets(conn, "VM", vm, "uuid"));
}

static void teardown(void)
{
	free(vm);
	vm = NULL;
	conn = xvm_disconnect(conn);
	unsetenv("XVM_HC_FAULT");
	t_rmdir(dir);
	dir = NULL;
}

TestSuite(lifecycle, .init = setup, .fini = teardown, .timeout = 120);

/* --- the power operations and what each state allows --------------------------- */

enum { OP_START, OP_PAUSE, OP_UNPAUSE, OP_CLEAN_SHUTDOWN, OP_CLEAN_REBOOT, OP_HARD_SHUTDOWN, OP_HARD_REBOOT,
       OP_SUSPEND, OP_RESUME, OP_DESTROY, NOPS };
static const char *const op_names[NOPS] = { "start", "pause", "unpause", "clean_shutdown", "clean_reboot",
					     "hard_shutdown", "hard_reboot", "suspend", "resume", "destroy" };

static int do_op(xvm_conn *c, const char *ref, int op)
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
static bool allowed_in(int op, const char *state)
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
static unsigned hv_domains(const char *uuid, enum xvm_hc_domain_state *state, uint32_t *domid)
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
static void check_state(xvm_conn *c, const char *ref, const char *state)
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

/* Every power operation the state forbids fails with VM_BAD_POWER_STATE
 * [vm, expected, actual] and changes nothing. */
static void check_forbidden(xvm_conn *c, const char *ref, const char *state)
{
	int64_t domid = t_domid(c, ref);
	for (int op = 0; op < NOPS; op++) {
		if (allowed_in(op, state))
			continue;
		int r = do_op(c, ref, op);
		const struct xvm_error *e = xvm_last_error();
		cr_assert_eq(r, -XVM_ERR_VM_BAD_POWER_STATE, "%s on a %s VM: %d %s: %s", op_names[op], state, r,
			     t_errname(), t_errmsg());
		cr_assert_eq(e->nparams, 3, "%s: %zu params", op_names[op], e->nparams);
		cr_assert_str_eq(e->params[0], ref);
		cr_assert(allowed_in(op, e->params[1]), "%s: expected state '%s' does not allow it", op_names[op],
			  e->params[1]);
		cr_assert(strcasecmp(e->params[2], state) == 0, "%s: actual state '%s', not '%s'", op_names[op],
			  e->params[2], state);
		cr_assert_str_eq(t_power(c, ref), state, "%s changed the power state", op_names[op]);
		cr_assert_eq(t_domid(c, ref), domid, "%s changed the domid", op_names[op]);
	}
	check_state(c, ref, state);
}

Test(lifecycle, full_state_machine)
{
	check_state(conn, vm, "Halted");
	check_forbidden(conn, vm, "Halted");

	T_OK(xvm_vm_start(conn, vm, 0));
	check_state(conn, vm, "Running");
	check_forbidden(conn, vm, "Running");
	int64_t d1 = t_domid(conn, vm);

	T_OK(xvm_vm_pause(conn, vm));
	check_state(conn, vm, "Paused");
	check_forbidden(conn, vm, "Paused");
	cr_assert_eq(t_domid(conn, vm), d1);

	T_OK(xvm_vm_unpause(conn, vm));
	check_state(conn, vm, "Running");
	cr_assert_eq(t_domid(conn, vm), d1);

	T_OK(xvm_vm_suspend(conn, vm));
	check_state(conn, vm, "Suspended");
	check_forbidden(conn, vm, "Suspended");

	T_OK(xvm_vm_resume(conn, vm, 0));
	check_state(conn, vm, "Running");

	T_OK(xvm_vm_clean_shutdown(conn, vm));
	check_state(conn, vm, "Halted");

	T_OK(xvm_vm_destroy(conn, vm));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VM", vm, &rec), XVM_ERR_HANDLE_INVALID, 2, "VM", vm);
}

Test(lifecycle, start_paused_and_unpause)
{
	T_OK(xvm_vm_start(conn, vm, XVM_VM_START_PAUSED));
	check_state(conn, vm, "Paused");
	int64_t d = t_domid(conn, vm);
	T_OK(xvm_vm_unpause(conn, vm));
	check_state(conn, vm, "Running");
	cr_assert_eq(t_domid(conn, vm), d, "unpause changed the domain");
	T_ERR(xvm_vm_start(conn, vm, 0x100), XVM_ERR_INVALID_VALUE, -1);
	check_state(conn, vm, "Running");
}

Test(lifecycle, suspend_and_resume_paused)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_suspend(conn, vm));
	check_state(conn, vm, "Suspended");
	T_OK(xvm_vm_resume(conn, vm, XVM_VM_START_PAUSED));
	check_state(conn, vm, "Paused");
	T_OK(xvm_vm_unpause(conn, vm));
	check_state(conn, vm, "Running");
	/* a second round trip works too (the image was consumed and is made anew) */
	T_OK(xvm_vm_suspend(conn, vm));
	T_OK(xvm_vm_resume(conn, vm, 0));
	check_state(conn, vm, "Running");
}

Test(lifecycle, hard_shutdown_from_every_live_state)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	check_state(conn, vm, "Halted");

	T_OK(xvm_vm_start(conn, vm, XVM_VM_START_PAUSED));
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	check_state(conn, vm, "Halted");

	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_suspend(conn, vm));
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
	/* the saved run was thrown away: a fresh start works, resume is refused */
	T_BAD_POWER(xvm_vm_resume(conn, vm, 0), vm, "Suspended", "Halted");
	T_OK(xvm_vm_start(conn, vm, 0));
	check_state(conn, vm, "Running");
}

Test(lifecycle, reboots_give_a_new_domain)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	int64_t d1 = t_domid(conn, vm);
	T_OK(xvm_vm_clean_reboot(conn, vm));
	check_state(conn, vm, "Running");
	int64_t d2 = t_domid(conn, vm);
	cr_assert_neq(d2, d1, "clean_reboot kept domid %lld", (long long)d1);
	T_OK(xvm_vm_hard_reboot(conn, vm));
	check_state(conn, vm, "Running");
	int64_t d3 = t_domid(conn, vm);
	cr_assert_neq(d3, d2);
	cr_assert_neq(d3, d1);
	/* hard_reboot of a paused VM: a new, running domain */
	T_OK(xvm_vm_pause(conn, vm));
	T_OK(xvm_vm_hard_reboot(conn, vm));
	check_state(conn, vm, "Running");
	cr_assert_neq(t_domid(conn, vm), d3);
}

Test(lifecycle, metrics_set_on_start)
{
	const char *metrics = t_gets(conn, "VM", vm, "metrics");
	cr_assert(ref_valid(metrics) && !ref_is_null(metrics), "installed VM has no metrics: %s", metrics);
	char mref[XVM_REF_BUFLEN + 16];
	snprintf(mref, sizeof(mref), "%s", metrics);
	const char *install_time = t_gets(conn, "VM_metrics", mref, "install_time");
	cr_assert(datetime_valid(install_time) && strcmp(install_time, XVM_DATETIME_ZERO) != 0, "install_time %s",
		  install_time);
	cr_assert_str_eq(t_gets(conn, "VM_metrics", mref, "start_time"), XVM_DATETIME_ZERO);

	T_OK(t_set_int(conn, "VM", vm, "VCPUs_at_startup", 2));
	char lo[XVM_DATETIME_BUFLEN], hi[XVM_DATETIME_BUFLEN];
	datetime_format(time(NULL) - 1, lo);
	T_OK(xvm_vm_start(conn, vm, 0));
	datetime_format(time(NULL) + 1, hi);
	cr_assert_str_eq(t_gets(conn, "VM", vm, "metrics"), mref, "start replaced the metrics object");
	const char *st = t_gets(conn, "VM_metrics", mref, "start_time");
	cr_assert(datetime_valid(st), "%s", st);
	cr_assert(strcmp(st, lo) >= 0 && strcmp(st, hi) <= 0, "start_time %s not in [%s, %s]", st, lo, hi);
	cr_assert_eq(t_geti(conn, "VM_metrics", mref, "VCPUs_number"), 2);
	cr_assert_gt(t_geti(conn, "VM_metrics", mref, "memory_actual"), 0);
	struct json_object *all = NULL;
	T_OK(xvm_object_get_all(conn, "VM_metrics", &all));
	size_t nmetrics = t_len(all);
	json_object_put(all);
	T_OK(xvm_vm_hard_reboot(conn, vm));
	T_OK(xvm_object_get_all(conn, "VM_metrics", &all));
	cr_assert_eq(t_len(all), nmetrics, "a reboot made another VM_metrics");
	json_object_put(all);
	cr_assert_eq(t_geti(conn, "VM_metrics", mref, "VCPUs_number"), 2);
}

/* --- templates --------------------------------------------------------------------- */

static char *template_ref(void)
{
	char *ref = NULL;
	T_OK(xvm_object_get_by_uuid(conn, "VM", SIM_TEST_UUID, &ref));
	return ref;
}

Test(lifecycle, templates_cannot_start)
{
	char *t = template_ref();
	cr_assert(t_getb(conn, "VM", t, "is_a_template"));
	T_ERR(xvm_vm_start(conn, t, 0), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	T_ERR(xvm_vm_start(conn, t, XVM_VM_START_PAUSED), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	cr_assert_str_eq(t_power(conn, t), "Halted");
	cr_assert_eq(t_domid(conn, t), -1);
	cr_assert_eq(hv_domains(SIM_TEST_UUID, NULL, NULL), 0);
	struct json_object *allowed = t_get(conn, "VM", t, "allowed_operations");
	cr_assert_not(t_has(allowed, "start"), "a template allows start");
	cr_assert_not(t_has(allowed, "destroy"), "a built-in template allows destroy");
	json_object_put(allowed);
	free(t);
}

Test(lifecycle, builtin_templates_cannot_be_destroyed)
{
	char *t = template_ref();
	T_ERR(xvm_vm_destroy(conn, t), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	T_ERR(xvm_vm_uninstall(conn, t), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	struct json_object *rec = NULL;
	T_OK(xvm_object_get_record(conn, "VM", t, &rec));
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "name_label")), "sim test");
	cr_assert_eq(json_object_object_length(json_object_object_get(rec, "current_operations")), 0);
	json_object_put(rec);
	/* and it still installs */
	char *again = t_install(conn, "after");
	free(again);
	free(t);
}

Test(lifecycle, user_template_cannot_start_but_can_be_destroyed)
{
	T_OK(t_set_json(conn, "VM", vm, "is_a_template", "true"));
	T_ERR(xvm_vm_start(conn, vm, 0), XVM_ERR_VM_IS_TEMPLATE, 1, vm);
	cr_assert_str_eq(t_power(conn, vm), "Halted");
	struct json_object *allowed = t_get(conn, "VM", vm, "allowed_operations");
	cr_assert_not(t_has(allowed, "start"));
	cr_assert(t_has(allowed, "destroy"));
	json_object_put(allowed);
	/* a VM can be installed from it */
	char *child = NULL;
	T_OK(xvm_vm_install(conn, vm, "from user template", 0, &child));
	cr_assert_not(t_getb(conn, "VM", child, "is_a_template"));
	free(child);
	T_OK(xvm_vm_destroy(conn, vm));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VM", vm, &rec), XVM_ERR_HANDLE_INVALID, 2, "VM", vm);
}

/* --- install ------------------------------------------------------------------------- */

static size_t vm_count(void)
{
	struct json_object *all = NULL;
	T_OK(xvm_object_get_all(conn, "VM", &all));
	size_t n = t_len(all);
	json_object_put(all);
	return n;
}

static void check_installed(const char *ref, const char *name)
{
	cr_assert_str_eq(t_gets(conn, "VM", ref, "name_label"), name);
	cr_assert_not(t_getb(conn, "VM", ref, "is_a_template"));
	cr_assert_not(t_getb(conn, "VM", ref, "is_default_template"));
	const char *uuid = t_gets(conn, "VM", ref, "uuid");
	cr_assert(uuid_valid(uuid));
	cr_assert_str_neq(uuid, SIM_TEST_UUID, "the VM took the template's UUID");
	cr_assert_eq(t_geti(conn, "VM", ref, "VCPUs_max"), 2);
	cr_assert_eq(t_geti(conn, "VM", ref, "memory_static_max"), 128ll << 20);
	cr_assert_eq(t_geti(conn, "VM", ref, "memory_static_min"), 64ll << 20);
	struct json_object *oc = t_get(conn, "VM", ref, "other_config");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(oc, "purpose")), "test");
	json_object_put(oc);
	check_state(conn, ref, "Halted");
}

Test(lifecycle, install_by_name_uuid_and_ref)
{
	size_t n = vm_count();
	char *t = template_ref(), *a = NULL, *b = NULL, *c = NULL;
	T_OK(xvm_vm_install(conn, "sim test", "by name", 0, &a));
	T_OK(xvm_vm_install(conn, SIM_TEST_UUID, "by uuid", 0, &b));
	T_OK(xvm_vm_install(conn, t, "by ref", 0, &c));
	cr_assert_eq(vm_count(), n + 3);
	check_installed(a, "by name");
	check_installed(b, "by uuid");
	check_installed(c, "by ref");
	cr_assert_str_neq(a, b);
	cr_assert_str_neq(b, c);
	cr_assert_str_neq(t_gets(conn, "VM", a, "uuid"), t_gets(conn, "VM", b, "uuid"));
	cr_assert_str_neq(t_gets(conn, "VM", a, "metrics"), t_gets(conn, "VM", b, "metrics"));
	/* the template itself did not change */
	cr_assert(t_getb(conn, "VM", t, "is_a_template"));
	cr_assert_str_eq(t_gets(conn, "VM", t, "name_label"), "sim test");
	/* an installed VM runs */
	T_OK(xvm_vm_start(conn, c, 0));
	check_state(conn, c, "Running");
	free(a);
	free(b);
	free(c);
	free(t);
}

Test(lifecycle, install_unknown_template)
{
	size_t n = vm_count();
	char *ref = (char *)"untouched";
	T_ERR(xvm_vm_install(conn, "no such template", "x", 0, &ref), XVM_ERR_UNKNOWN_TEMPLATE, 1, "no such template");
	T_ERR(xvm_vm_install(conn, "00000000-0000-4000-8000-000000000000", "x", 0, &ref), XVM_ERR_UNKNOWN_TEMPLATE, 1,
	      "00000000-0000-4000-8000-000000000000");
	T_ERR(xvm_vm_install(conn, "OpaqueRef:nonexistent", "x", 0, &ref), XVM_ERR_UNKNOWN_TEMPLATE, 1,
	      "OpaqueRef:nonexistent");
	/* a VM is not a template, by name, UUID or ref */
	T_ERR(xvm_vm_install(conn, "vm1", "x", 0, &ref), XVM_ERR_UNKNOWN_TEMPLATE, 1, "vm1");
	T_ERR(xvm_vm_install(conn, vm_uuid, "x", 0, &ref), XVM_ERR_UNKNOWN_TEMPLATE, 1, vm_uuid);
	T_ERR(xvm_vm_install(conn, vm, "x", 0, &ref), XVM_ERR_UNKNOWN_TEMPLATE, 1, vm);
	T_ERR(xvm_vm_install(conn, "sim test", "", 0, &ref), XVM_ERR_INVALID_VALUE, -1);
	T_ERR(xvm_vm_install(conn, "sim test", "x", 1, &ref), XVM_ERR_INVALID_VALUE, -1);
	cr_assert_str_eq(ref, "untouched");
	cr_assert_eq(vm_count(), n, "a failed install left a VM");
	struct json_object *named = NULL;
	T_OK(xvm_object_get_by_name_label(conn, "VM", "x", &named));
	cr_assert_eq(t_len(named), 0);
	json_object_put(named);
}

Test(lifecycle, uninstall_running_vm)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	const char *metrics = t_gets(conn, "VM", vm, "metrics");
	char mref[128];
	snprintf(mref, sizeof(mref), "%s", metrics);
	T_OK(xvm_vm_uninstall(conn, vm));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VM", vm, &rec), XVM_ERR_HANDLE_INVALID, 2, "VM", vm);
	T_ERR(xvm_object_get_record(conn, "VM_metrics", mref, &rec), XVM_ERR_HANDLE_INVALID, 2, "VM_metrics", mref);
	cr_assert_eq(hv_domains(vm_uuid, NULL, NULL), 0, "uninstall left the domain running");
}

/* --- guest actions ------------------------------------------------------------------ */

/*
 * Starts the VM with `field` = value, makes the guest do `action` through
 * `actor`, and checks the outcome through a connection opened before (another
 * process's view), the acting one and a fresh one.
 */
static void guest_case(const char *field, const char *value, const char *action, const char *want,
		       bool want_new_domid)
{
	T_OK(t_set_str(conn, "VM", vm, field, value));
	T_OK(xvm_vm_start(conn, vm, 0));
	int64_t d1 = t_domid(conn, vm);
	xvm_conn *other = t_connect(dir);
	cr_assert_str_eq(t_power(other, vm), "Running");
	T_OK(xvm_vm_simulate_guest_action(conn, vm, action));
	/* the other connection learns it first: it applies the action */
	check_state(other, vm, want);
	int64_t d2 = t_domid(other, vm);
	if (strcmp(want, "Running") == 0)
		cr_assert_eq(d2 != d1, want_new_domid, "%s with %s=%s: domid %lld -> %lld", action, field, value,
			     (long long)d1, (long long)d2);
	if (strcmp(want, "Paused") == 0)
		cr_assert_eq(d2, d1, "a preserved domain changed domid");
	check_state(conn, vm, want);
	cr_assert_eq(t_domid(conn, vm), d2);
	xvm_disconnect(other);
	conn = xvm_disconnect(conn);
	conn = t_connect(dir);
	check_state(conn, vm, want);
	cr_assert_eq(t_domid(conn, vm), d2);
}

Test(lifecycle, guest_poweroff_destroy)
{
	guest_case("actions_after_shutdown", "destroy", "poweroff", "Halted", false);
}

Test(lifecycle, guest_poweroff_restart)
{
	guest_case("actions_after_shutdown", "restart", "poweroff", "Running", true);
}

Test(lifecycle, guest_reboot_restart)
{
	guest_case("actions_after_reboot", "restart", "reboot", "Running", true);
}

Test(lifecycle, guest_reboot_destroy)
{
	guest_case("actions_after_reboot", "destroy", "reboot", "Halted", false);
}

Test(lifecycle, guest_crash_destroy)
{
	guest_case("actions_after_crash", "destroy", "crash", "Halted", false);
}

Test(lifecycle, guest_crash_restart)
{
	guest_case("actions_after_crash", "restart", "crash", "Running", true);
}

Test(lifecycle, guest_crash_coredump_and_restart)
{
	guest_case("actions_after_crash", "coredump_and_restart", "crash", "Running", true);
}

Test(lifecycle, guest_crash_preserve)
{
	preserved_crash = true;
	guest_case("actions_after_crash", "preserve", "crash", "Paused", false);
	/* the preserved domain stays until shut down; it cannot be unpaused */
	check_state(conn, vm, "Paused");
	int64_t d = t_domid(conn, vm);
	int r = xvm_vm_unpause(conn, vm);
	cr_assert_neq(r, 0, "a crashed domain was unpaused");
	check_state(conn, vm, "Paused");
	cr_assert_eq(t_domid(conn, vm), d);
	preserved_crash = false;
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
	T_OK(xvm_vm_start(conn, vm, 0));
	check_state(conn, vm, "Running");
}

/* The acting process goes away without another call: a fresh one sees it. */
Test(lifecycle, guest_action_seen_by_next_process)
{
	T_OK(t_set_str(conn, "VM", vm, "actions_after_crash", "destroy"));
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_simulate_guest_action(conn, vm, "crash"));
	conn = xvm_disconnect(conn);
	conn = t_connect(dir);
	check_state(conn, vm, "Halted");
}

/* Another process makes the guest crash; this one sees the restart. */
Test(lifecycle, guest_action_from_child_process)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	int64_t d1 = t_domid(conn, vm);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		xvm_conn *c = NULL;
		if (xvm_connect(t_uri(dir), 0, &c) < 0)
			_exit(2);
		int r = xvm_vm_simulate_guest_action(c, vm, "crash");
		xvm_disconnect(c);
		_exit(r == 0 ? 0 : 3);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: status %d", status);
	check_state(conn, vm, "Running");
	cr_assert_neq(t_domid(conn, vm), d1, "the crash was not handled: same domain");
}

Test(lifecycle, guest_action_refusals)
{
	T_BAD_POWER(xvm_vm_simulate_guest_action(conn, vm, "crash"), vm, "Running", "Halted");
	T_OK(xvm_vm_start(conn, vm, 0));
	int64_t d = t_domid(conn, vm);
	T_ERR(xvm_vm_simulate_guest_action(conn, vm, "explode"), XVM_ERR_INVALID_VALUE, 2, "action", "explode");
	check_state(conn, vm, "Running");
	cr_assert_eq(t_domid(conn, vm), d);
	T_OK(xvm_vm_pause(conn, vm));
	T_BAD_POWER(xvm_vm_simulate_guest_action(conn, vm, "poweroff"), vm, "Running", "Paused");
	check_state(conn, vm, "Paused");
}

/* --- operations in progress elsewhere --------------------------------------------------- */

static void check_in_progress(const char *state)
{
	int64_t domid = t_domid(conn, vm);
	for (int op = 0; op < NOPS; op++) {
		if (!allowed_in(op, state))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "%s while locked", op_names[op]);
		t_check_error(what, do_op(conn, vm, op), XVM_ERR_OTHER_OPERATION_IN_PROGRESS, 2, "VM", vm);
		cr_assert_str_eq(t_power(conn, vm), state, "%s changed the power state", what);
		cr_assert_eq(t_domid(conn, vm), domid, "%s changed the domid", what);
	}
	if (strcmp(state, "Running") == 0)
		t_check_error("guest action while locked", xvm_vm_simulate_guest_action(conn, vm, "crash"),
			      XVM_ERR_OTHER_OPERATION_IN_PROGRESS, 2, "VM", vm);
	unsigned n = hv_domains(vm_uuid, NULL, NULL);
	cr_assert_eq(n, strcmp(state, "Running") == 0 ? 1u : 0u);
}

Test(lifecycle, oplock_held_by_another_engine)
{
	struct engine *e = NULL;
	T_OK(engine_open("sim", dir, &e));
	struct oplock lk = { -1 };
	T_OK(oplock_try(e, "VM", vm, &lk));
	check_in_progress("Halted");
	oplock_release(&lk);
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(oplock_try(e, "VM", vm, &lk));
	check_in_progress("Running");
	oplock_release(&lk);
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
	engine_close(e);
}

/* A child process holds the lock; when it dies (without unlocking) the
 * lock is free again. */
Test(lifecycle, oplock_held_by_child_process)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	int to_child[2], to_parent[2];
	cr_assert_eq(pipe(to_child), 0);
	cr_assert_eq(pipe(to_parent), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct engine *e = NULL;
		struct oplock lk = { -1 };
		char ok = engine_open("sim", dir, &e) == 0 && oplock_try(e, "VM", vm, &lk) == 0 ? 'L' : 'F';
		if (write(to_parent[1], &ok, 1) != 1)
			_exit(2);
		char c;
		if (read(to_child[0], &c, 1) != 1)
			_exit(3);
		_exit(0); /* dies holding the lock */
	}
	char c = 0;
	cr_assert_eq(read(to_parent[0], &c, 1), 1);
	cr_assert_eq(c, 'L', "the child could not take the lock");
	check_in_progress("Running");
	cr_assert_eq(write(to_child[1], "x", 1), 1);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_OK(xvm_vm_clean_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
}

/* Every operation that returned is committed: a process killed outright
 * (no disconnect, no exit handlers) loses none of them. */
Test(lifecycle, committed_operations_survive_sigkill)
{
	int to_parent[2];
	cr_assert_eq(pipe(to_parent), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		xvm_conn *c = t_connect(dir);
		for (int i = 0; i < 50; i++) {
			char name[16], *ref;
			snprintf(name, sizeof(name), "durable-%d", i);
			if (xvm_vm_install(c, "sim test", name, 0, &ref) < 0 || xvm_vm_start(c, ref, 0) < 0)
				_exit(2);
			free(ref);
		}
		if (write(to_parent[1], "d", 1) != 1)
			_exit(3);
		for (;;)
			pause(); /* killed here, mid-life */
	}
	char c = 0;
	cr_assert_eq(read(to_parent[0], &c, 1), 1, "the child failed its operations");
	kill(pid, SIGKILL);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status));

	xvm_conn *after = t_connect(dir);
	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "durable-%d", i);
		struct json_object *refs;
		T_OK(xvm_object_get_by_name_label(after, "VM", name, &refs));
		cr_assert_eq(t_len(refs), 1, "%s is missing", name);
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, 0));
		cr_assert_str_eq(t_gets(after, "VM", ref, "power_state"), "Running", "%s", name);
		json_object_put(refs);
	}
	xvm_disconnect(after);
}

/* --- hypercall faults ----------------------------------------------------------------- */

static xvm_conn *connect_with_fault(const char *spec)
{
	setenv("XVM_HC_FAULT", spec, 1);
	xvm_conn *c = t_connect(dir);
	return c;
}

static void check_no_tasks(void)
{
	struct json_object *tasks = NULL;
	T_OK(xvm_object_get_all(conn, "task", &tasks));
	cr_assert_eq(t_len(tasks), 0, "tasks left: %s", json_object_to_json_string(tasks));
	json_object_put(tasks);
}

static void start_fails(const char *spec, int code, const char *what)
{
	xvm_conn *fc = connect_with_fault(spec);
	t_check_error(spec, xvm_vm_start(fc, vm, 0), code, 2, code == XVM_ERR_HYPERVISOR_ERROR ? what : vm, NULL);
	check_state(fc, vm, "Halted");
	check_state(conn, vm, "Halted");
	cr_assert_eq(hv_domains(vm_uuid, NULL, NULL), 0, "%s: a domain was left behind", spec);
	cr_assert_eq(t_hv_domains(dir, NULL), 0, "%s: a domain was left behind", spec);
	check_no_tasks();
	/* the fault was for one call: the next start works */
	T_OK(xvm_vm_start(fc, vm, 0));
	check_state(fc, vm, "Running");
	xvm_disconnect(fc);
}

/* A start creates the domain running (one hypercall); unpause is its own operation. */
Test(lifecycle, fault_domain_unpause)
{
	xvm_conn *fc = connect_with_fault("domain_unpause:1:EIO");
	T_OK(xvm_vm_start(fc, vm, XVM_VM_START_PAUSED));
	t_check_error("unpause", xvm_vm_unpause(fc, vm), XVM_ERR_HYPERVISOR_ERROR, 2, "domain unpause", NULL);
	check_state(fc, vm, "Paused");
	T_OK(xvm_vm_unpause(fc, vm));
	check_state(fc, vm, "Running");
	xvm_disconnect(fc);
	unsetenv("XVM_HC_FAULT");
}

Test(lifecycle, fault_domain_create)
{
	start_fails("domain_create:1:EIO", XVM_ERR_HYPERVISOR_ERROR, "domain create");
}

Test(lifecycle, fault_domain_create_enomem)
{
	start_fails("domain_create:1:ENOMEM", XVM_ERR_HOST_NOT_ENOUGH_FREE_MEMORY, NULL);
}

Test(lifecycle, fault_domain_get_info_after_create)
{
	start_fails("domain_get_info:1:EIO", XVM_ERR_HYPERVISOR_ERROR, "domain info");
}

Test(lifecycle, fault_start_paused_create)
{
	xvm_conn *fc = connect_with_fault("domain_create:1:EIO");
	T_ERR(xvm_vm_start(fc, vm, XVM_VM_START_PAUSED), XVM_ERR_HYPERVISOR_ERROR, 2, "domain create", NULL);
	check_state(fc, vm, "Halted");
	xvm_disconnect(fc);
}

Test(lifecycle, fault_suspend_save_keeps_running)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	int64_t d = t_domid(conn, vm);
	xvm_conn *fc = connect_with_fault("domain_save:1:EIO");
	T_ERR(xvm_vm_suspend(fc, vm), XVM_ERR_HYPERVISOR_ERROR, 2, "domain save", NULL);
	check_state(fc, vm, "Running");
	cr_assert_eq(t_domid(fc, vm), d);
	T_OK(xvm_vm_suspend(fc, vm));
	check_state(fc, vm, "Suspended");
	xvm_disconnect(fc);
}

Test(lifecycle, fault_hard_shutdown_destroy_keeps_running)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	int64_t d = t_domid(conn, vm);
	xvm_conn *fc = connect_with_fault("domain_destroy:1:EIO");
	T_ERR(xvm_vm_hard_shutdown(fc, vm), XVM_ERR_HYPERVISOR_ERROR, 2, "domain destroy", NULL);
	check_state(fc, vm, "Running");
	cr_assert_eq(t_domid(fc, vm), d);
	check_no_tasks();
	T_OK(xvm_vm_hard_shutdown(fc, vm));
	check_state(fc, vm, "Halted");
	xvm_disconnect(fc);
}

Test(lifecycle, fault_resume_restore_keeps_suspended)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_suspend(conn, vm));
	xvm_conn *fc = connect_with_fault("domain_restore:1:EIO");
	T_ERR(xvm_vm_resume(fc, vm, 0), XVM_ERR_HYPERVISOR_ERROR, 2, "domain restore", NULL);
	check_state(fc, vm, "Suspended");
	T_OK(xvm_vm_resume(fc, vm, 0));
	check_state(fc, vm, "Running");
	xvm_disconnect(fc);
}

Test(lifecycle, fault_hard_reboot_create_leaves_halted)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	xvm_conn *fc = connect_with_fault("domain_create:1:EIO");
	T_ERR(xvm_vm_hard_reboot(fc, vm), XVM_ERR_HYPERVISOR_ERROR, 2, "domain create", NULL);
	check_state(fc, vm, "Halted");
	check_no_tasks();
	xvm_disconnect(fc);
}

Test(lifecycle, fault_restart_after_crash_leaves_halted)
{
	xvm_conn *fc = connect_with_fault("domain_create:2:EIO");
	T_OK(xvm_vm_start(fc, vm, 0)); /* create #1 */
	T_OK(xvm_vm_simulate_guest_action(fc, vm, "crash"));
	/* the restart (create #2) fails: the VM is Halted, nothing runs */
	check_state(fc, vm, "Halted");
	xvm_disconnect(fc);
}

Test(lifecycle, malformed_fault_spec_refused)
{
	setenv("XVM_HC_FAULT", "domain_unpause:one:EIO", 1);
	xvm_conn *c = NULL;
	T_ERR(xvm_connect(t_uri(dir), 0, &c), XVM_ERR_INVALID_VALUE, 1, "XVM_HC_FAULT");
	cr_assert_null(c);
	setenv("XVM_HC_FAULT", "no_such_call:1:EIO", 1);
	T_ERR(xvm_connect(t_uri(dir), 0, &c), XVM_ERR_INVALID_VALUE, 1, "XVM_HC_FAULT");
	unsetenv("XVM_HC_FAULT");
}

/* --- a process dies mid-operation -------------------------------------------------------- */

/*
 * In a child: opens its own engine, begins `op` on the VM as the engine does
 * (lock and in-flight marker), does `then` (0: nothing; 1: boot a domain; 2:
 * destroy the VM's domain), and dies without ending the operation.
 */
static void die_mid_operation(const char *op, int then)
{
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct engine *e = NULL;
		if (engine_open("sim", dir, &e) < 0)
			_exit(2);
		struct vm_op o;
		if (vm_op_begin(e, vm, op, 0, &o) < 0)
			_exit(3);
		if (then == 1) {
			struct xvm_hc_domain_info info;
			if (domain_boot(e, vm, o.rec, false, &info) < 0)
				_exit(4);
		} else if (then == 2) {
			if (domain_destroy(e, vm, (uint32_t)o.domid) < 0)
				_exit(5);
		}
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed before dying: status %#x", status);
}

Test(lifecycle, crash_after_begin_start)
{
	die_mid_operation("start", 0);
	/* a second connection, as another process would */
	xvm_conn *c2 = t_connect(dir);
	T_OK(xvm_vm_start(c2, vm, 0));
	check_state(c2, vm, "Running");
	check_state(conn, vm, "Running");
	check_no_tasks();
	xvm_disconnect(c2);
	T_OK(xvm_vm_clean_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
}

Test(lifecycle, crash_after_begin_clean_shutdown)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	die_mid_operation("clean_shutdown", 0);
	T_OK(xvm_vm_clean_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
	check_no_tasks();
	T_OK(xvm_vm_start(conn, vm, 0));
	check_state(conn, vm, "Running");
}

/* Dies after creating the domain, before recording it: the next start must
 * not fail on the orphan nor leave two domains for one VM. */
Test(lifecycle, crash_after_domain_created)
{
	die_mid_operation("start", 1);
	cr_assert_eq(hv_domains(vm_uuid, NULL, NULL), 1, "the child's domain is not there");
	int r = xvm_vm_start(conn, vm, 0);
	if (r == -XVM_ERR_VM_BAD_POWER_STATE) {
		/* adopted the orphan as the VM's run: fine too */
		cr_assert(strcasecmp(xvm_last_error()->params[2], "Running") == 0, "%s", t_errmsg());
	} else {
		cr_assert_eq(r, 0, "start after a crash mid-start: %d %s: %s", r, t_errname(), t_errmsg());
	}
	check_state(conn, vm, "Running");
	check_no_tasks();
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
}

/* Dies after destroying the domain in a hard_shutdown: the user's shutdown
 * happened, so the VM is Halted and starts again; it is not "crashed". */
Test(lifecycle, crash_after_domain_destroyed_in_hard_shutdown)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	die_mid_operation("hard_shutdown", 2);
	cr_assert_eq(hv_domains(vm_uuid, NULL, NULL), 0);
	int r = xvm_vm_start(conn, vm, 0);
	cr_assert_eq(r, 0, "start after a crash mid-hard_shutdown: %d %s: %s", r, t_errname(), t_errmsg());
	check_state(conn, vm, "Running");
	check_no_tasks();
}

/* --- racing connections ------------------------------------------------------------------ */

struct racer {
	int r;
	int code;
};

static pthread_barrier_t race_barrier;

static void *race_start(void *arg)
{
	struct racer *me = arg;
	xvm_conn *c = NULL;
	me->r = xvm_connect(t_uri(dir), 0, &c);
	pthread_barrier_wait(&race_barrier);
	if (me->r == 0)
		me->r = xvm_vm_start(c, vm, 0);
	me->code = xvm_last_error() ? xvm_last_error()->code : 0;
	xvm_disconnect(c);
	return NULL;
}

/* Many connections start the same VM at once: exactly one wins, the others
 * are told why, and one domain runs. */
Test(lifecycle, concurrent_starts_one_wins)
{
	enum { N = 8 };
	struct racer rs[N] = { 0 };
	pthread_t t[N];
	pthread_barrier_init(&race_barrier, NULL, N);
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, race_start, &rs[i]);
	int wins = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		if (rs[i].r == 0) {
			wins++;
			continue;
		}
		cr_assert(rs[i].code == XVM_ERR_OTHER_OPERATION_IN_PROGRESS || rs[i].code == XVM_ERR_VM_BAD_POWER_STATE,
			  "racer %d: %d (%s)", i, rs[i].r, xvm_error_code_name(rs[i].code));
	}
	pthread_barrier_destroy(&race_barrier);
	cr_assert_eq(wins, 1, "%d starts succeeded", wins);
	check_state(conn, vm, "Running");
}

/* An operation in flight in another process shows as current_operations
 * and a pending task, and blocks allowed_operations; when that process
 * dies, all of it goes at once. */
Test(lifecycle, operation_in_flight_visible_then_gone)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	int to_child[2], to_parent[2];
	cr_assert_eq(pipe(to_child), 0);
	cr_assert_eq(pipe(to_parent), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct engine *e = NULL;
		struct vm_op o;
		char ok = engine_open("sim", dir, &e) == 0 && vm_op_begin(e, vm, "clean_shutdown", 0, &o) == 0 ? 'B' : 'F';
		if (write(to_parent[1], &ok, 1) != 1)
			_exit(2);
		char c;
		if (read(to_child[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	char c = 0;
	cr_assert_eq(read(to_parent[0], &c, 1), 1);
	cr_assert_eq(c, 'B', "the child could not begin the operation");
	struct json_object *rec = NULL;
	T_OK(xvm_object_get_record(conn, "VM", vm, &rec));
	struct json_object *cur = json_object_object_get(rec, "current_operations");
	cr_assert_eq(json_object_object_length(cur), 1, "current_operations: %s", json_object_to_json_string(cur));
	const char *task = NULL;
	json_object_object_foreach(cur, k, v) {
		task = k;
		cr_assert_str_eq(json_object_get_string(v), "clean_shutdown");
	}
	cr_assert_eq(t_len(json_object_object_get(rec, "allowed_operations")), 0, "allowed_operations while busy: %s",
		     json_object_to_json_string(json_object_object_get(rec, "allowed_operations")));
	struct json_object *tasks = NULL;
	T_OK(xvm_object_get_all(conn, "task", &tasks));
	cr_assert(t_has(tasks, task), "the in-flight task %s is not listed: %s", task, json_object_to_json_string(tasks));
	json_object_put(tasks);
	json_object_put(rec);
	T_ERR(xvm_vm_hard_shutdown(conn, vm), XVM_ERR_OTHER_OPERATION_IN_PROGRESS, 2, "VM", vm);

	cr_assert_eq(write(to_child[1], "x", 1), 1);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_state(conn, vm, "Running");
	check_no_tasks();
	T_OK(xvm_vm_clean_shutdown(conn, vm));
	check_state(conn, vm, "Halted");
}
