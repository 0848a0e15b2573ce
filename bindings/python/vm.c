/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM lifecycle methods of xvm.VM: one libxvm call each, GIL released. */
#include "xvmpy.h"

/* start and resume: (paused=False, force=False) as XenAPI's flags. */
static PyObject *vm_start_like(XenObject *self, PyObject *args, PyObject *kwargs, const char *fmt,
			       int (*op)(xvm_conn *, const char *, unsigned))
{
	static char *kwlist[] = {"paused", "force", NULL};
	int paused = 0, force = 0;
	const char *ref = PyUnicode_AsUTF8(self->ref);
	if (!ref || !PyArg_ParseTupleAndKeywords(args, kwargs, fmt, kwlist, &paused, &force))
		return NULL;
	unsigned flags = (paused ? XVM_VM_START_PAUSED : 0) | (force ? XVM_VM_START_FORCE : 0);
	int r;
	XVM_UNLOCKED(self->conn, r, op(h, ref, flags));
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *vm_start(XenObject *self, PyObject *args, PyObject *kwargs)
{
	return vm_start_like(self, args, kwargs, "|pp:start", xvm_vm_start);
}

static PyObject *vm_resume(XenObject *self, PyObject *args, PyObject *kwargs)
{
	return vm_start_like(self, args, kwargs, "|pp:resume", xvm_vm_resume);
}

#define VM_OP(name) \
	static PyObject *vm_##name(XenObject *self, PyObject *unused) \
	{ \
		return object_op(self, xvm_vm_##name); \
	}
VM_OP(clean_shutdown)
VM_OP(hard_shutdown)
VM_OP(clean_reboot)
VM_OP(hard_reboot)
VM_OP(pause)
VM_OP(unpause)
VM_OP(suspend)
VM_OP(destroy)
VM_OP(uninstall)
#undef VM_OP

static PyObject *vm_revert(XenObject *self, PyObject *unused)
{
	return object_op(self, xvm_vm_revert);
}

typedef int (*vm_copy_fn)(xvm_conn *conn, const char *vm, const char *new_name, char **ret);

/* snapshot, checkpoint, snapshot_export_to_template: (new_name) -> xvm.VM */
static PyObject *vm_copy_op(XenObject *self, PyObject *arg, vm_copy_fn op)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	const char *name = ref ? PyUnicode_AsUTF8(arg) : NULL;
	char *copy = NULL;
	int r;
	if (!name)
		return NULL;
	XVM_UNLOCKED(self->conn, r, op(h, ref, name, &copy));
	if (r < 0)
		return NULL;
	return object_take(self->conn, pyclass_lookup("VM"), copy);
}

#define VM_COPY_OP(name) \
	static PyObject *vm_##name(XenObject *self, PyObject *new_name) \
	{ \
		return vm_copy_op(self, new_name, xvm_vm_##name); \
	}
VM_COPY_OP(snapshot)
VM_COPY_OP(checkpoint)
VM_COPY_OP(snapshot_export_to_template)
#undef VM_COPY_OP

static PyObject *vm_set_vcpus_live(XenObject *self, PyObject *n)
{
	return object_int_op(self, n, xvm_vm_set_vcpus_live);
}

static PyObject *vm_set_memory_target_live(XenObject *self, PyObject *bytes)
{
	return object_int_op(self, bytes, xvm_vm_set_memory_target_live);
}

static PyObject *vm_simulate_guest_action(XenObject *self, PyObject *arg)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	const char *action = ref ? PyUnicode_AsUTF8(arg) : NULL;
	int r;
	if (!action)
		return NULL;
	XVM_UNLOCKED(self->conn, r, xvm_vm_simulate_guest_action(h, ref, action));
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

#define BAD_STATE "Raises xvm.VMBadPowerState (params: vm, expected,\nactual) "

PyMethodDef vm_methods[] = {
	{"start", (PyCFunction)(void (*)(void))vm_start, METH_VARARGS | METH_KEYWORDS,
	 "start($self, /, paused=False, force=False)\n--\n\n"
	 "Boots a Halted VM: Running, or Paused if `paused`. `force` skips soft\n"
	 "checks (XenAPI's force). " BAD_STATE "unless Halted;\n"
	 "xvm.VMIsTemplate for a template."},
	{"clean_shutdown", (PyCFunction)vm_clean_shutdown, METH_NOARGS,
	 "clean_shutdown($self, /)\n--\n\n"
	 "Asks the guest to power off and waits until it is Halted.\n" BAD_STATE "unless Running."},
	{"hard_shutdown", (PyCFunction)vm_hard_shutdown, METH_NOARGS,
	 "hard_shutdown($self, /)\n--\n\n"
	 "Stops a Running, Paused or Suspended VM at once: Halted."},
	{"clean_reboot", (PyCFunction)vm_clean_reboot, METH_NOARGS,
	 "clean_reboot($self, /)\n--\n\n"
	 "Asks the guest to reboot; it stays Running.\n" BAD_STATE "unless Running."},
	{"hard_reboot", (PyCFunction)vm_hard_reboot, METH_NOARGS,
	 "hard_reboot($self, /)\n--\n\n"
	 "Resets a Running or Paused VM: stopped and started again."},
	{"pause", (PyCFunction)vm_pause, METH_NOARGS,
	 "pause($self, /)\n--\n\n"
	 "Freezes a Running VM's vCPUs: Paused.\n" BAD_STATE "unless Running."},
	{"unpause", (PyCFunction)vm_unpause, METH_NOARGS,
	 "unpause($self, /)\n--\n\n"
	 "Lets a Paused VM run again: Running.\n" BAD_STATE "unless Paused."},
	{"suspend", (PyCFunction)vm_suspend, METH_NOARGS,
	 "suspend($self, /)\n--\n\n"
	 "Saves a Running VM's memory to disk and stops it: Suspended.\n" BAD_STATE "unless Running."},
	{"resume", (PyCFunction)(void (*)(void))vm_resume, METH_VARARGS | METH_KEYWORDS,
	 "resume($self, /, paused=False, force=False)\n--\n\n"
	 "Restores a Suspended VM: Running, or Paused if `paused`.\n" BAD_STATE "unless Suspended."},
	{"destroy", (PyCFunction)vm_destroy, METH_NOARGS,
	 "destroy($self, /)\n--\n\n"
	 "Deletes a Halted VM's record (XenAPI VM.destroy); its disks stay."},
	{"uninstall", (PyCFunction)vm_uninstall, METH_NOARGS,
	 "uninstall($self, /)\n--\n\n"
	 "Hard-shuts the VM down if needed and deletes it with the disks it owns\n"
	 "(xe vm-uninstall)."},
	{"set_vcpus_live", (PyCFunction)vm_set_vcpus_live, METH_O,
	 "set_vcpus_live($self, n, /)\n--\n\n"
	 "Sets a Running VM's online vCPUs to n, 1 <= n <= VCPUs_max\n"
	 "(XenAPI set_VCPUs_number_live)."},
	{"set_memory_target_live", (PyCFunction)vm_set_memory_target_live, METH_O,
	 "set_memory_target_live($self, bytes, /)\n--\n\n"
	 "Sets a Running VM's balloon target in bytes,\n"
	 "memory_static_min <= bytes <= memory_static_max."},
	{"snapshot", (PyCFunction)vm_snapshot, METH_O,
	 "snapshot($self, new_name, /)\n--\n\n"
	 "Snapshots the VM's disks, copy-on-write, also while it runs (XenAPI\n"
	 "VM.snapshot); returns the snapshot, a template with is_a_snapshot.\n"
	 "xvm.VMIsTemplate for a template."},
	{"checkpoint", (PyCFunction)vm_checkpoint, METH_O,
	 "checkpoint($self, new_name, /)\n--\n\n"
	 "Snapshots a Running VM's disks and memory; the VM runs on (XenAPI\n"
	 "VM.checkpoint). Returns the checkpoint, Suspended.\n" BAD_STATE "unless Running."},
	{"revert", (PyCFunction)vm_revert, METH_NOARGS,
	 "revert($self, /)\n--\n\n"
	 "On a snapshot: its VM goes back to it (configuration, disks, and the\n"
	 "running guest of a checkpoint) (XenAPI VM.revert).\n"
	 "xvm.OperationNotAllowed on a VM that is no snapshot."},
	{"snapshot_export_to_template", (PyCFunction)vm_snapshot_export_to_template, METH_O,
	 "snapshot_export_to_template($self, new_name, /)\n--\n\n"
	 "On a snapshot: a new template copied from it, copy-on-write."},
	{"simulate_guest_action", (PyCFunction)vm_simulate_guest_action, METH_O,
	 "simulate_guest_action($self, action, /)\n--\n\n"
	 "Test hook: the running guest powers off ('poweroff'), reboots ('reboot')\n"
	 "or crashes ('crash') on its own; the engine then applies\n"
	 "actions_after_shutdown, _reboot or _crash."},
	{NULL},
};
