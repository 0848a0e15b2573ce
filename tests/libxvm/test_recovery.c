/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recovery of the VM lifecycle on sim:///DIR with the "sim test" template:
 * operation locks held by others, committed operations surviving SIGKILL,
 * hypercall faults and processes that die mid-operation.
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


TestSuite(lifecycle, .init = t_lifecycle_setup, .fini = t_lifecycle_teardown, .timeout = 120);

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
