/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM lifecycle through the public API on sim:///DIR with the "sim test"
 * template: the power state machine and its refusals, allowed_operations,
 * templates, install and guest actions seen from other connections (operation
 * locks, hypercall faults and dying processes: test_recovery.c).
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

#define T_LIFECYCLE_FIXTURE
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

TestSuite(lifecycle, .init = t_lifecycle_setup, .fini = t_lifecycle_teardown, .timeout = 120);

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
