/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vm_power.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/util.h"
#include "lifecycle/domain.h"
#include "lifecycle/domain_config.h"
#include "lifecycle/vm_op.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

static const char *name_of(struct vm_op *op)
{
	struct json_object *v;
	return json_object_object_get_ex(op->rec, "name_label", &v) ? json_object_get_string(v) : op->ref;
}

/* Ends op with the VM running (or paused) as the domain in info. */
static int end_running(struct vm_op *op, const struct xvm_hc_domain_info *info, bool paused)
{
	struct json_object *vm = json_object_new_object(), *metrics = json_object_new_object();
	domain_running_changes(op->e, info, paused, vm, metrics);
	int r = vm_op_end(op, vm, metrics);
	json_object_put(vm);
	json_object_put(metrics);
	return r;
}

static int end_halted(struct vm_op *op)
{
	struct json_object *vm = json_object_new_object();
	domain_halted_changes(vm);
	int r = vm_op_end(op, vm, NULL);
	json_object_put(vm);
	return r;
}

static int end_power(struct vm_op *op, const char *power)
{
	struct json_object *vm = json_object_new_object();
	json_object_object_add(vm, "power_state", json_object_new_string(power));
	int r = vm_op_end(op, vm, NULL);
	json_object_put(vm);
	return r;
}

static int fail(struct vm_op *op, int r)
{
	return vm_op_abort(op, r);
}

int vm_start(struct engine *e, const char *ref, bool paused, bool force)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "start", 0, &op);
	if (r < 0)
		return r;
	struct xvm_hc_domain_info info;
	if ((r = domain_boot(e, ref, op.rec, paused, &info)) < 0)
		return fail(&op, r);
	if ((r = end_running(&op, &info, paused)) < 0)
		/* Without a record of it the domain must not run on. */
		domain_destroy(e, ref, info.domid);
	return r;
}

static int hypercall_on_domain(struct vm_op *op, enum xvm_hc hc, const char *what)
{
	struct xvm_hc_domain d = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op->domid };
	int r = xvm_hypercall(op->e->hv, hc, &d);
	return r < 0 ? engine_hv_error(op->e, r, what, op->ref) : 0;
}

int vm_pause(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "pause", 0, &op);
	if (r < 0)
		return r;
	if ((r = hypercall_on_domain(&op, XVM_HC_DOMAIN_PAUSE, "domain pause")) < 0)
		return fail(&op, r);
	return end_power(&op, "Paused");
}

int vm_unpause(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "unpause", 0, &op);
	if (r < 0)
		return r;
	struct xvm_hc_domain_info info = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid };
	if (xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, &info) == 0 && info.state == XVM_HC_STATE_SHUTDOWN)
		return fail(&op, ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, ref, "unpause",
				      "VM %s crashed and is kept for inspection (actions_after_crash=preserve): "
				      "it cannot run on; shut it down or reboot it hard",
				      name_of(&op)));
	if ((r = hypercall_on_domain(&op, XVM_HC_DOMAIN_UNPAUSE, "domain unpause")) < 0)
		return fail(&op, r);
	return end_power(&op, "Running");
}

int vm_hard_shutdown(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "hard_shutdown", 0, &op);
	if (r < 0)
		return r;
	if (op.power == VM_SUSPENDED) {
		/* The saved run is thrown away, as XenServer does. */
		char *path = domain_suspend_image_path(e, op.rec);
		if (path && unlink(path) < 0 && errno != ENOENT)
			r = ERR1(XVM_ERR_INTERNAL_ERROR, op.ref, "cannot remove the suspend image %s: %s", path,
				 strerror(errno));
		free(path);
		if (r < 0)
			return fail(&op, r);
	} else if ((r = domain_destroy(e, ref, (uint32_t)op.domid)) < 0) {
		return fail(&op, r);
	}
	return end_halted(&op);
}

/* How long a guest may take to shut down: the VM's other_config:shutdown_timeout
 * (seconds), else the connection's default ($XVM_SHUTDOWN_TIMEOUT, else 60 s). */
static unsigned shutdown_timeout(struct vm_op *op)
{
	static const char *const fields[] = { "other_config", NULL };
	struct json_object *rec = NULL, *oc, *v;
	int64_t s;
	unsigned timeout = op->e->shutdown_timeout_s;
	/* Read here, not with every operation's fields: maps cost to parse. */
	if (store_begin_read(op->e->store) == 0) {
		if (rec_read_fields(op->e, &class_vm, op->ref, fields, &rec) < 0)
			rec = NULL;
		store_rollback(op->e->store);
	}
	if (rec && json_object_object_get_ex(rec, "other_config", &oc) &&
	    json_object_object_get_ex(oc, "shutdown_timeout", &v) && parse_int64(json_object_get_string(v), &s) == 0 &&
	    s > 0 && s <= 86400)
		timeout = (unsigned)s;
	json_object_put(rec);
	return timeout;
}

/* Asks the guest to stop for `reason` and waits for it. */
static int request_and_wait(struct vm_op *op, enum xvm_hc_shutdown_reason reason, const char *what)
{
	struct xvm_hc_domain_shutdown req = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op->domid,
					      .reason = reason };
	int r = xvm_hypercall(op->e->hv, XVM_HC_DOMAIN_SHUTDOWN, &req);
	if (r == -EOPNOTSUPP && reason == XVM_HC_SHUTDOWN_REBOOT) {
		/* A guest that cannot be asked to reboot (no agent; ACPI has only
		 * the power button) is asked to power off, and started again. */
		req.reason = XVM_HC_SHUTDOWN_POWEROFF;
		r = xvm_hypercall(op->e->hv, XVM_HC_DOMAIN_SHUTDOWN, &req);
	}
	if (r < 0)
		return engine_hv_error(op->e, r, what, op->ref);
	struct xvm_hc_domain_info info;
	unsigned timeout = shutdown_timeout(op);
	r = domain_wait_shutdown(op->e, op->ref, (uint32_t)op->domid, timeout, &info);
	if (r == -ETIME) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%u", timeout);
		return ERR2(XVM_ERR_VM_SHUTDOWN_TIMEOUT, op->ref, secs,
			    "VM %s did not %s within %s s; it is still running (hard shutdown forces it)",
			    name_of(op), reason == XVM_HC_SHUTDOWN_REBOOT ? "reboot" : "shut down", secs);
	}
	if (r == 0 && info.shutdown_reason == XVM_HC_SHUTDOWN_CRASH)
		return ERR1(XVM_ERR_VM_CRASHED, op->ref, "VM %s crashed while shutting down", name_of(op));
	return r;
}

int vm_clean_shutdown(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "clean_shutdown", 0, &op);
	if (r < 0)
		return r;
	if ((r = request_and_wait(&op, XVM_HC_SHUTDOWN_POWEROFF, "shutdown request")) < 0 ||
	    (r = domain_destroy(e, ref, (uint32_t)op.domid)) < 0)
		return fail(&op, r);
	return end_halted(&op);
}

/* Replaces the VM's domain by a fresh one; the VM is Halted if that fails. */
static int reboot_into_new_domain(struct vm_op *op)
{
	int r = domain_destroy(op->e, op->ref, (uint32_t)op->domid);
	if (r < 0)
		return fail(op, r);
	struct xvm_hc_domain_info info;
	if ((r = domain_boot(op->e, op->ref, op->rec, false, &info)) < 0) {
		end_halted(op);
		return r;
	}
	return end_running(op, &info, false);
}

int vm_clean_reboot(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "clean_reboot", 0, &op);
	if (r < 0)
		return r;
	if ((r = request_and_wait(&op, XVM_HC_SHUTDOWN_REBOOT, "reboot request")) < 0)
		return fail(&op, r);
	return reboot_into_new_domain(&op);
}

int vm_hard_reboot(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "hard_reboot", 0, &op);
	if (r < 0)
		return r;
	return reboot_into_new_domain(&op);
}

int vm_suspend(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "suspend", 0, &op);
	if (r < 0)
		return r;
	char *path = domain_suspend_image_path(e, op.rec);
	if (!path)
		return fail(&op, error_oom());
	r = domain_save(e, ref, (uint32_t)op.domid, path, 0);
	free(path);
	if (r < 0)
		return fail(&op, r);
	struct json_object *vm = json_object_new_object();
	domain_halted_changes(vm);
	json_object_object_add(vm, "power_state", json_object_new_string("Suspended"));
	r = vm_op_end(&op, vm, NULL);
	json_object_put(vm);
	return r;
}

int vm_resume(struct engine *e, const char *ref, bool paused, bool force)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "resume", 0, &op);
	if (r < 0)
		return r;
	struct xvm_hc_domain_config cfg;
	struct xvm_hc_domain_restore restore = { .head = XVM_HC_HEAD(0), .config = &cfg };
	char *path = domain_suspend_image_path(e, op.rec);
	if (!path)
		return fail(&op, error_oom());
	snprintf(restore.path, sizeof(restore.path), "%s", path);
	if ((r = domain_config_from_vm(e, ref, op.rec, &cfg)) == 0 &&
	    (r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_RESTORE, &restore)) < 0)
		r = engine_hv_nic_error(e, r, "domain restore", ref);
	if (r < 0) {
		free(path);
		return fail(&op, r);
	}
	struct xvm_hc_domain_info info = { .head = XVM_HC_HEAD(0), .domid = restore.domid };
	if (!paused) {
		struct xvm_hc_domain un = { .head = XVM_HC_HEAD(0), .domid = restore.domid };
		if ((r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_UNPAUSE, &un)) < 0) {
			r = engine_hv_error(e, r, "domain unpause", ref);
			domain_destroy(e, ref, restore.domid);
			free(path);
			return fail(&op, r);
		}
	}
	if ((r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, &info)) < 0) {
		r = engine_hv_error(e, r, "domain info", ref);
		domain_destroy(e, ref, restore.domid);
		free(path);
		return fail(&op, r);
	}
	/* The image is consumed: the run goes on in the new domain. */
	unlink(path);
	free(path);
	return end_running(&op, &info, paused);
}

int vm_simulate_guest_action(struct engine *e, const char *ref, const char *action)
{
	static const struct {
		const char *name;
		enum xvm_hc_shutdown_reason reason;
	} actions[] = { { "poweroff", XVM_HC_SHUTDOWN_POWEROFF }, { "reboot", XVM_HC_SHUTDOWN_REBOOT },
			{ "crash", XVM_HC_SHUTDOWN_CRASH } };
	size_t i;
	for (i = 0; i < 3 && strcmp(actions[i].name, action) != 0; i++)
		;
	if (i == 3)
		return ERR2(XVM_ERR_INVALID_VALUE, "action", action,
			    "unknown guest action '%s': use poweroff, reboot or crash", action);
	struct vm_op op;
	int r = vm_op_begin(e, ref, "simulate_guest_action", VM_OP_ANY_STATE, &op);
	if (r < 0)
		return r;
	if (op.power != VM_RUNNING) {
		r = vm_bad_power_state(ref, name_of(&op), "Running", vm_power_name(op.power),
				       "act on its own (only a running guest can)");
		return fail(&op, r);
	}
	struct xvm_hc_guest_action act = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid,
					   .action = actions[i].reason };
	if ((r = xvm_hypercall(e->hv, XVM_HC_GUEST_ACTION, &act)) < 0)
		return fail(&op, engine_hv_error(e, r, "guest action", ref));
	/* What follows is the engine's ordinary handling of a guest's own doing:
	 * the next sync applies actions_after_*. */
	return vm_op_end(&op, NULL, NULL);
}
