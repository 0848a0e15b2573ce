/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM methods of the method table: XenAPI's, plus xvm's own
 * (VM.install, VM.uninstall, VM.simulate_guest_action). */
#include <stdlib.h>

#include "core/methods.h"
#include "lifecycle/vm_install.h"
#include "lifecycle/vm_live.h"
#include "lifecycle/vm_power.h"
#include "lifecycle/vm_snapshot.h"

typedef int (*vm_fn)(struct engine *e, const char *ref);

/* VM.X(vm) -> void */
static int call_on_vm(struct engine *e, struct json_object *args, struct json_object **result, vm_fn fn)
{
	const char *ref;
	int r = arg_string(args, 0, "vm", &ref);
	if (r < 0)
		return r;
	*result = NULL;
	return fn(e, ref);
}

#define VM_METHOD(name)                                                                          \
	static int m_##name(struct engine *e, struct json_object *args, struct json_object **result) \
	{                                                                                        \
		return call_on_vm(e, args, result, vm_##name);                                   \
	}
VM_METHOD(clean_shutdown)
VM_METHOD(hard_shutdown)
VM_METHOD(clean_reboot)
VM_METHOD(hard_reboot)
VM_METHOD(pause)
VM_METHOD(unpause)
VM_METHOD(suspend)
VM_METHOD(destroy)
VM_METHOD(uninstall)

/* VM.start(vm, start_paused, force) and VM.resume(vm, start_paused, force) */
static int start_like(struct engine *e, struct json_object *args, struct json_object **result,
		      int (*fn)(struct engine *, const char *, bool, bool))
{
	const char *ref;
	bool paused, force;
	int r;
	if ((r = arg_string(args, 0, "vm", &ref)) < 0 || (r = arg_bool(args, 1, "start_paused", &paused)) < 0 ||
	    (r = arg_bool(args, 2, "force", &force)) < 0)
		return r;
	*result = NULL;
	return fn(e, ref, paused, force);
}

static int m_start(struct engine *e, struct json_object *args, struct json_object **result)
{
	return start_like(e, args, result, vm_start);
}

static int m_resume(struct engine *e, struct json_object *args, struct json_object **result)
{
	return start_like(e, args, result, vm_resume);
}

/* VM.X(vm, new_name) -> VM (and VM.install(template, new_name)) */
static int copy_like(struct engine *e, struct json_object *args, struct json_object **result, const char *what,
		     int (*fn)(struct engine *, const char *, const char *, char **))
{
	const char *ref, *name;
	int r;
	if ((r = arg_string(args, 0, what, &ref)) < 0 || (r = arg_string(args, 1, "new_name", &name)) < 0)
		return r;
	char *new_ref;
	if ((r = fn(e, ref, name, &new_ref)) < 0)
		return r;
	*result = json_object_new_string(new_ref);
	free(new_ref);
	return 0;
}

static int m_install(struct engine *e, struct json_object *args, struct json_object **result)
{
	return copy_like(e, args, result, "template", vm_install);
}

static int m_snapshot(struct engine *e, struct json_object *args, struct json_object **result)
{
	return copy_like(e, args, result, "vm", vm_snapshot);
}

static int m_checkpoint(struct engine *e, struct json_object *args, struct json_object **result)
{
	return copy_like(e, args, result, "vm", vm_checkpoint);
}

static int m_export_to_template(struct engine *e, struct json_object *args, struct json_object **result)
{
	return copy_like(e, args, result, "snapshot", vm_snapshot_export_to_template);
}

static int m_revert(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *ref;
	int r = arg_string(args, 0, "snapshot", &ref);
	if (r < 0)
		return r;
	*result = NULL;
	return vm_revert(e, ref);
}

static int m_simulate_guest_action(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *ref, *action;
	int r;
	if ((r = arg_string(args, 0, "vm", &ref)) < 0 || (r = arg_string(args, 1, "action", &action)) < 0)
		return r;
	*result = NULL;
	return vm_simulate_guest_action(e, ref, action);
}

/* VM.X(vm, int) -> void */
static int call_with_int(struct engine *e, struct json_object *args, struct json_object **result,
			 const char *what, int (*fn)(struct engine *, const char *, int64_t))
{
	const char *ref;
	int64_t n;
	int r;
	if ((r = arg_string(args, 0, "vm", &ref)) < 0 || (r = arg_int64(args, 1, what, &n)) < 0)
		return r;
	*result = NULL;
	return fn(e, ref, n);
}

static int m_set_vcpus_live(struct engine *e, struct json_object *args, struct json_object **result)
{
	return call_with_int(e, args, result, "nvcpu", vm_set_vcpus_live);
}

static int m_set_memory_target_live(struct engine *e, struct json_object *args, struct json_object **result)
{
	return call_with_int(e, args, result, "target", vm_set_memory_target_live);
}

const struct method vm_methods[] = {
	{ "VM.start", m_start, 3, "Starts a Halted VM (vm, start_paused, force)" },
	{ "VM.clean_shutdown", m_clean_shutdown, 1, "Asks the guest to power off and waits (vm)" },
	{ "VM.hard_shutdown", m_hard_shutdown, 1, "Stops the VM at once (vm)" },
	{ "VM.clean_reboot", m_clean_reboot, 1, "Asks the guest to reboot and waits (vm)" },
	{ "VM.hard_reboot", m_hard_reboot, 1, "Restarts the VM at once (vm)" },
	{ "VM.pause", m_pause, 1, "Pauses a Running VM (vm)" },
	{ "VM.unpause", m_unpause, 1, "Resumes a Paused VM (vm)" },
	{ "VM.suspend", m_suspend, 1, "Saves a Running VM's memory to disk and stops it (vm)" },
	{ "VM.resume", m_resume, 3, "Resumes a Suspended VM (vm, start_paused, force)" },
	{ "VM.set_VCPUs_number_live", m_set_vcpus_live, 2, "Sets the vCPUs of a Running VM (vm, nvcpu)" },
	{ "VM.set_memory_target_live", m_set_memory_target_live, 2,
	  "Sets the balloon target of a Running VM, bytes (vm, target)" },
	{ "VM.destroy", m_destroy, 1, "Deletes a Halted VM's record, keeping its disks (vm)" },
	{ "VM.install", m_install, 2, "xvm: a new VM from a template (template, new_name) -> VM" },
	{ "VM.uninstall", m_uninstall, 1, "xvm: stops and deletes a VM with its disks (vm)" },
	{ "VM.snapshot", m_snapshot, 2, "Snapshots the VM's disks, copy-on-write (vm, new_name) -> VM" },
	{ "VM.checkpoint", m_checkpoint, 2,
	  "Snapshots a Running VM's disks and memory; it runs on (vm, new_name) -> VM" },
	{ "VM.revert", m_revert, 1, "Takes the VM back to the snapshot: disks, configuration, memory (snapshot)" },
	{ "VM.snapshot_export_to_template", m_export_to_template, 2,
	  "xvm: a template copied, copy-on-write, from the snapshot (snapshot, new_name) -> VM" },
	{ "VM.simulate_guest_action", m_simulate_guest_action, 2,
	  "xvm, for tests: the guest powers off, reboots or crashes on its own (vm, action)" },
	{ NULL },
};
