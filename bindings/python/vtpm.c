/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vTPMs: xvm.VTPM's destroy() and conn.create_vtpm(), one method-table call
 * each, GIL released (as the network calls: xvm_call).
 */
#include "xvmpy.h"

static PyObject *vtpm_destroy(XenObject *self, PyObject *unused)
{
	return call_on_self(self, "VTPM.destroy");
}

PyMethodDef vtpm_methods[] = {
	{"destroy", (PyCFunction)vtpm_destroy, METH_NOARGS,
	 "destroy($self, /)\n--\n\n"
	 "Deletes the vTPM and the TPM's contents, its keys with them (VTPM.destroy).\n"
	 "xvm.VMBadPowerState unless its VM is halted."},
	{NULL},
};

const char conn_create_vtpm_doc[] =
	"create_vtpm($self, /, vm, is_unique=False)\n--\n\n"
	"Gives the halted VM `vm` (an object or a ref) a TPM 2.0, manufactured with\n"
	"its endorsement keys and certificates (VTPM.create); is_unique: clones of\n"
	"the VM get a new TPM, not a copy of this one. Returns the xvm.VTPM.\n"
	"xvm.VTPMMaxAmountReached if the VM has one; xvm.VMBadPowerState unless\n"
	"halted; xvm.VMIsTemplate for a built-in template.";

PyObject *conn_create_vtpm(ConnectionObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"vm", "is_unique", NULL};
	PyObject *vm_obj;
	int is_unique = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|p:create_vtpm", kwlist, &vm_obj, &is_unique))
		return NULL;
	const char *vm = object_ref_arg(vm_obj, pyclass_lookup("VM"), "vm");
	if (!vm)
		return NULL;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(vm));
	json_object_array_add(a, json_object_new_boolean(is_unique));
	return call_making(self, "VTPM.create", a, "VTPM");
}
