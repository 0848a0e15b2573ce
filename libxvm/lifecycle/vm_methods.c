/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM methods of the method table: XenAPI's, plus xvm's own
 * (VM.install, VM.uninstall, VM.simulate_guest_action). */
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"

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
VM_METHOD(provision)

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

/* The new VM's reference as the result. */
static int vm_result(int r, char *ref, struct json_object **result)
{
	if (r == 0)
		*result = json_object_new_string(ref);
	free(ref);
	return r;
}

static int m_install(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *template_name, *name;
	int r;
	if ((r = arg_string(args, 0, "template", &template_name)) < 0 ||
	    (r = arg_string(args, 1, "new_name", &name)) < 0)
		return r;
	char *ref = NULL;
	int made = vm_install(e, template_name, name, NULL, false, &ref);
	return vm_result(made, ref, result);
}

/* VM.install_with(template, new_name, options): options sr (reference or UUID) and copy ("true"). */
static int m_install_with(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *template_name, *name;
	struct json_object *opts = json_object_array_get_idx(args, 2);
	int r;
	if ((r = arg_string(args, 0, "template", &template_name)) < 0 ||
	    (r = arg_string(args, 1, "new_name", &name)) < 0)
		return r;
	if (!json_object_is_type(opts, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "options", "options must be a map (sr, copy)");
	const char *sr = NULL;
	bool copy = false;
	json_object_object_foreach(opts, k, val) {
		const char *s = json_object_get_string(val);
		if (strcmp(k, "sr") == 0)
			sr = s;
		else if (strcmp(k, "copy") == 0 && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
			copy = strcmp(s, "true") == 0;
		else
			return ERR2(XVM_ERR_INVALID_VALUE, k, s ? s : "",
				    "install options are sr=SR and copy=true|false, not %s=%s", k, s ? s : "");
	}
	char *ref = NULL;
	int made = vm_install(e, template_name, name, sr, copy, &ref);
	return vm_result(made, ref, result);
}

static int m_clone(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *vm, *name;
	int r;
	if ((r = arg_string(args, 0, "vm", &vm)) < 0 || (r = arg_string(args, 1, "new_name", &name)) < 0)
		return r;
	char *ref = NULL;
	int made = vm_clone(e, vm, name, &ref);
	return vm_result(made, ref, result);
}

static int m_copy(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *vm, *name, *sr;
	int r;
	if ((r = arg_string(args, 0, "vm", &vm)) < 0 || (r = arg_string(args, 1, "new_name", &name)) < 0 ||
	    (r = arg_string(args, 2, "sr", &sr)) < 0)
		return r;
	char *ref = NULL;
	int made = vm_copy(e, vm, name, sr, &ref);
	return vm_result(made, ref, result);
}

/* VM.X(vm, new_name) -> VM, for the snapshots. */
static int to_new_vm(struct engine *e, struct json_object *args, struct json_object **result, const char *what,
		     int (*fn)(struct engine *, const char *, const char *, char **))
{
	const char *ref, *name;
	int r;
	if ((r = arg_string(args, 0, what, &ref)) < 0 || (r = arg_string(args, 1, "new_name", &name)) < 0)
		return r;
	char *new_ref = NULL;
	int made = fn(e, ref, name, &new_ref);
	return vm_result(made, new_ref, result);
}

static int m_snapshot(struct engine *e, struct json_object *args, struct json_object **result)
{
	return to_new_vm(e, args, result, "vm", vm_snapshot);
}

static int m_checkpoint(struct engine *e, struct json_object *args, struct json_object **result)
{
	return to_new_vm(e, args, result, "vm", vm_checkpoint);
}

static int m_export_to_template(struct engine *e, struct json_object *args, struct json_object **result)
{
	return to_new_vm(e, args, result, "snapshot", vm_snapshot_export_to_template);
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
	{ "VM.install_with", m_install_with, 3,
	  "xvm: VM.install with options sr (for new and copied disks) and copy=true (full disk copies) "
	  "(template, new_name, options) -> VM" },
	{ "VM.provision", m_provision, 1,
	  "Makes the disks, CD drive, VIFs and vTPM the Halted VM's other_config asks for (vm)" },
	{ "VM.clone", m_clone, 2, "Copies a Halted VM or template, its disks copy-on-write (vm, new_name) -> VM" },
	{ "VM.copy", m_copy, 3, "Copies a Halted VM or template, its disks in full into sr (NULL: their own) (vm, new_name, sr) -> VM" },
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
