/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The storage operations: methods of xvm.SR, xvm.PBD, xvm.VDI and xvm.VBD,
 * and the Connection calls that make them. One libxvm call each, GIL
 * released: the typed calls of xvm/storage.h, and xvm_call for the
 * methods that have none (SR.introduce, SR.update, PBD.create,
 * PBD.destroy, VDI.forget, and VDI.create with a format).
 */
#include "xvmpy.h"

#include <string.h>

#define METHOD(name, fn, flags, doc) {name, (PyCFunction)(void (*)(void))(fn), flags, doc}

/* --- Results ------------------------------------------------------------------ */

/* An object of class `cls` for the ref a call returned (the ref is freed). */
static PyObject *made(ConnectionObject *conn, const char *cls, int r, char *ref)
{
	return r < 0 ? NULL : object_take(conn, pyclass_lookup(cls), ref);
}

PyObject *call_making(ConnectionObject *conn, const char *method, struct json_object *args, const char *cls)
{
	struct json_object *res = NULL;
	int r;
	XVM_UNLOCKED(conn, r, xvm_call(h, method, args, &res));
	json_object_put(args);
	PyObject *o = NULL;
	if (r >= 0 && json_object_is_type(res, json_type_string))
		o = object_new(conn, pyclass_lookup(cls), json_object_get_string(res));
	else if (r >= 0)
		PyErr_Format(PyExc_SystemError, "%s returned no reference", method);
	json_object_put(res);
	return o;
}

/* --- Arguments ------------------------------------------------------------------ */

struct json_object *map_arg(PyObject *o, const char *what)
{
	if (!o || o == Py_None)
		return json_object_new_object();
	if (!PyDict_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be a dict of str to str, not %.100s", what, Py_TYPE(o)->tp_name);
		return NULL;
	}
	return py_to_json(o);
}

/*
 * A file name for the engine, which may run in another process (xvmd):
 * str or os.PathLike, made absolute against this process's directory; a
 * URL ("nfs://...") is passed as it is. A new bytes object, or NULL.
 */
static PyObject *path_arg(PyObject *o)
{
	PyObject *bytes = NULL;
	if (!PyUnicode_FSConverter(o, &bytes))
		return NULL;
	const char *p = PyBytes_AS_STRING(bytes);
	if (p[0] == '/' || strstr(p, "://"))
		return bytes;
	PyObject *os_path = PyImport_ImportModule("os.path");
	PyObject *abs = os_path ? PyObject_CallMethod(os_path, "abspath", "O", bytes) : NULL;
	Py_XDECREF(os_path);
	Py_DECREF(bytes);
	return abs;
}

/* --- Calls on the object itself ----------------------------------------------- */

PyObject *call_on_self(XenObject *self, const char *method)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	if (!ref)
		return NULL;
	struct json_object *args = json_object_new_array(), *res = NULL;
	int r;
	json_object_array_add(args, json_object_new_string(ref));
	XVM_UNLOCKED(self->conn, r, xvm_call(h, method, args, &res));
	json_object_put(args);
	json_object_put(res);
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

#define OP(name, fn) \
	static PyObject *name(XenObject *self, PyObject *unused) \
	{ \
		return object_op(self, fn); \
	}
#define CALL(name, method) \
	static PyObject *name(XenObject *self, PyObject *unused) \
	{ \
		return call_on_self(self, method); \
	}
OP(sr_scan, xvm_sr_scan)
OP(sr_destroy, xvm_sr_destroy)
OP(sr_forget, xvm_sr_forget)
CALL(sr_update, "SR.update")
OP(pbd_plug, xvm_pbd_plug)
OP(pbd_unplug, xvm_pbd_unplug)
CALL(pbd_destroy, "PBD.destroy")
OP(vdi_destroy, xvm_vdi_destroy)
CALL(vdi_forget, "VDI.forget")
OP(vbd_plug, xvm_vbd_plug)
OP(vbd_unplug, xvm_vbd_unplug)
OP(vbd_eject, xvm_vbd_eject)
OP(vbd_destroy, xvm_vbd_destroy)
#undef OP
#undef CALL

/* --- xvm.SR ------------------------------------------------------------------------ */

/* VDI.create with the format as sm_config:type, the only way libxvm takes one. */
static PyObject *create_vdi(ConnectionObject *conn, const char *sr, const char *name_label, long long size,
			    const char *format)
{
	struct json_object *rec = json_object_new_object(), *sm = json_object_new_object();
	json_object_object_add(sm, "type", json_object_new_string(format));
	json_object_object_add(rec, "SR", json_object_new_string(sr));
	json_object_object_add(rec, "name_label", json_object_new_string(name_label));
	json_object_object_add(rec, "virtual_size", json_object_new_int64(size));
	json_object_object_add(rec, "sm_config", sm);
	struct json_object *args = json_object_new_array();
	json_object_array_add(args, rec);
	return call_making(conn, "VDI.create", args, "VDI");
}

#define CREATE_VDI_DOC \
	"A new empty disk of `size` bytes, named `name_label`: a qcow2 image\n" \
	"(thin) or a raw one (format='raw', preallocated). Returns the xvm.VDI.\n" \
	"xvm.SRFull if it does not fit now; xvm.InvalidValue for a size <= 0\n" \
	"or another format; xvm.SROperationNotSupported on an SR that makes no\n" \
	"disks (iso); xvm.SRHasNoPbds if the SR is not plugged."

static PyObject *sr_create_vdi(XenObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"name_label", "size", "format", NULL};
	const char *name_label, *format = "qcow2", *ref = PyUnicode_AsUTF8(self->ref);
	long long size;
	if (!ref || !PyArg_ParseTupleAndKeywords(args, kwargs, "sL|s:create_vdi", kwlist, &name_label, &size, &format))
		return NULL;
	return create_vdi(self->conn, ref, name_label, size, format);
}

PyMethodDef sr_methods[] = {
	METHOD("scan", sr_scan, METH_NOARGS,
	       "scan($self, /)\n--\n\n"
	       "Brings the SR's VDI records in line with its storage (SR.scan): images\n"
	       "that appeared get records, vanished ones are marked missing.\n"
	       "xvm.SRHasNoPbds if the SR is not plugged."),
	METHOD("update", sr_update, METH_NOARGS,
	       "update($self, /)\n--\n\n"
	       "Refreshes the SR's size figures, physical_size and\n"
	       "physical_utilisation (SR.update)."),
	METHOD("create_vdi", sr_create_vdi, METH_VARARGS | METH_KEYWORDS,
	       "create_vdi($self, /, name_label, size, format='qcow2')\n--\n\n" CREATE_VDI_DOC),
	METHOD("forget", sr_forget, METH_NOARGS,
	       "forget($self, /)\n--\n\n"
	       "Forgets the SR's records, its VDIs' and PBDs', keeping the storage\n"
	       "(SR.forget): Connection.introduce_sr and create_pbd find it again.\n"
	       "xvm.VDIInUse if a running VM uses one of its disks."),
	METHOD("destroy", sr_destroy, METH_NOARGS,
	       "destroy($self, /)\n--\n\n"
	       "Deletes the SR's disks and storage, then forgets it (SR.destroy).\n"
	       "xvm.VDIInUse if a VM uses one of its disks;\n"
	       "xvm.SROperationNotSupported for a type that only forgets (iso)."),
	{NULL},
};

/* --- xvm.PBD ------------------------------------------------------------------------ */

PyMethodDef pbd_methods[] = {
	METHOD("plug", pbd_plug, METH_NOARGS,
	       "plug($self, /)\n--\n\n"
	       "Attaches the SR on this host with the PBD's device_config, then scans\n"
	       "it (PBD.plug). xvm.DeviceAlreadyAttached if plugged already."),
	METHOD("unplug", pbd_unplug, METH_NOARGS,
	       "unplug($self, /)\n--\n\n"
	       "Detaches the SR from this host (PBD.unplug); its disks cannot be used\n"
	       "until it is plugged again. xvm.DeviceAlreadyDetached if not plugged;\n"
	       "xvm.VDIInUse while a running VM uses one of the SR's disks."),
	METHOD("destroy", pbd_destroy, METH_NOARGS,
	       "destroy($self, /)\n--\n\n"
	       "Deletes an unplugged PBD (PBD.destroy). xvm.DeviceAlreadyAttached if\n"
	       "it is plugged."),
	{NULL},
};

/* --- xvm.VDI ------------------------------------------------------------------------ */

typedef int (*vdi_make_fn)(xvm_conn *conn, const char *vdi, char **ret);

static PyObject *vdi_make(XenObject *self, vdi_make_fn op)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	char *out = NULL;
	int r;
	if (!ref)
		return NULL;
	XVM_UNLOCKED(self->conn, r, op(h, ref, &out));
	return made(self->conn, "VDI", r, out);
}

static PyObject *vdi_clone(XenObject *self, PyObject *unused)
{
	return vdi_make(self, xvm_vdi_clone);
}

static PyObject *vdi_snapshot(XenObject *self, PyObject *unused)
{
	return vdi_make(self, xvm_vdi_snapshot);
}

static PyObject *vdi_resize(XenObject *self, PyObject *size)
{
	return object_int_op(self, size, xvm_vdi_resize);
}

static PyObject *vdi_copy(XenObject *self, PyObject *sr_arg)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	const char *sr = ref ? object_ref_arg(sr_arg, pyclass_lookup("SR"), "sr") : NULL;
	char *out = NULL;
	int r;
	if (!sr)
		return NULL;
	XVM_UNLOCKED(self->conn, r, xvm_vdi_copy(h, ref, sr, &out));
	return made(self->conn, "VDI", r, out);
}

typedef int (*vdi_file_fn)(xvm_conn *conn, const char *vdi, const char *filename, const char *format);

static PyObject *vdi_file(XenObject *self, PyObject *args, PyObject *kwargs, const char *fmt, vdi_file_fn op)
{
	static char *kwlist[] = {"path", "format", NULL};
	PyObject *path_obj;
	const char *format = "raw", *ref = PyUnicode_AsUTF8(self->ref);
	if (!ref || !PyArg_ParseTupleAndKeywords(args, kwargs, fmt, kwlist, &path_obj, &format))
		return NULL;
	PyObject *path = path_arg(path_obj);
	if (!path)
		return NULL;
	const char *filename = PyBytes_AS_STRING(path);
	int r;
	XVM_UNLOCKED(self->conn, r, op(h, ref, filename, format));
	Py_DECREF(path);
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *vdi_import_file(XenObject *self, PyObject *args, PyObject *kwargs)
{
	return vdi_file(self, args, kwargs, "O|s:import_file", xvm_vdi_import);
}

static PyObject *vdi_export_file(XenObject *self, PyObject *args, PyObject *kwargs)
{
	return vdi_file(self, args, kwargs, "O|s:export_file", xvm_vdi_export);
}

#define IMAGE_FORMATS "format: 'raw', 'qcow2', 'vhd' or 'vmdk'"

PyMethodDef vdi_methods[] = {
	METHOD("resize", vdi_resize, METH_O,
	       "resize($self, size, /)\n--\n\n"
	       "Grows the disk to `size` bytes (VDI.resize), also while a running VM\n"
	       "uses it: the guest sees the new size. xvm.VDITooSmall for a size\n"
	       "below the current one; xvm.SRFull if the growth does not fit."),
	METHOD("clone", vdi_clone, METH_NOARGS,
	       "clone($self, /)\n--\n\n"
	       "A copy-on-write copy of the disk, O(1) in its size (VDI.clone).\n"
	       "Returns the new xvm.VDI."),
	METHOD("snapshot", vdi_snapshot, METH_NOARGS,
	       "snapshot($self, /)\n--\n\n"
	       "A copy-on-write snapshot of the disk, also while a running VM writes\n"
	       "to it (VDI.snapshot). Returns the new xvm.VDI: is_a_snapshot, and\n"
	       "snapshot_of this one."),
	METHOD("copy", vdi_copy, METH_O,
	       "copy($self, sr, /)\n--\n\n"
	       "A full, independent copy of the disk in the SR `sr` (an xvm.SR or its\n"
	       "ref), this one's or another (VDI.copy). Returns the new xvm.VDI.\n"
	       "xvm.VDIInUse while a running VM writes to the disk."),
	METHOD("import_file", vdi_import_file, METH_VARARGS | METH_KEYWORDS,
	       "import_file($self, /, path, format='raw')\n--\n\n"
	       "Writes the content of the image file `path` into the disk\n"
	       "(VDI.import_from_file; " IMAGE_FORMATS "). A\n"
	       "relative path is this process's directory's. xvm.ImportError if the\n"
	       "file cannot be read or is no image of that format; xvm.VDITooSmall\n"
	       "if its content is larger than the disk; xvm.VDIInUse while a running\n"
	       "VM uses the disk."),
	METHOD("export_file", vdi_export_file, METH_VARARGS | METH_KEYWORDS,
	       "export_file($self, /, path, format='raw')\n--\n\n"
	       "Writes the disk to the image file `path` (VDI.export_to_file;\n"
	       IMAGE_FORMATS ").\n"
	       "A relative path is this process's directory's. xvm.VDIInUse while\n"
	       "a running VM writes to the disk."),
	METHOD("forget", vdi_forget, METH_NOARGS,
	       "forget($self, /)\n--\n\n"
	       "Forgets the disk's record, keeping its volume (VDI.forget): the next\n"
	       "SR.scan finds it again. xvm.VDIInUse while a running VM uses it."),
	METHOD("destroy", vdi_destroy, METH_NOARGS,
	       "destroy($self, /)\n--\n\n"
	       "Deletes the disk, its volume and the drives that hold it\n"
	       "(VDI.destroy). xvm.VDIInUse while a running VM uses it."),
	{NULL},
};

/* --- xvm.VBD ------------------------------------------------------------------------ */

static PyObject *vbd_insert(XenObject *self, PyObject *vdi_arg)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	const char *vdi = ref ? object_ref_arg(vdi_arg, pyclass_lookup("VDI"), "vdi") : NULL;
	int r;
	if (!vdi)
		return NULL;
	XVM_UNLOCKED(self->conn, r, xvm_vbd_insert(h, ref, vdi));
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyMethodDef vbd_methods[] = {
	METHOD("plug", vbd_plug, METH_NOARGS,
	       "plug($self, /)\n--\n\n"
	       "Hot-plugs the drive into its running VM (VBD.plug): the guest sees\n"
	       "the disk appear. xvm.VMBadPowerState unless the VM runs;\n"
	       "xvm.DeviceAlreadyAttached if attached already."),
	METHOD("unplug", vbd_unplug, METH_NOARGS,
	       "unplug($self, /)\n--\n\n"
	       "Hot-unplugs the drive from its running VM (VBD.unplug).\n"
	       "xvm.DeviceAlreadyDetached if not attached; xvm.VBDNotUnpluggable\n"
	       "for a drive whose unpluggable field is False."),
	METHOD("insert", vbd_insert, METH_O,
	       "insert($self, vdi, /)\n--\n\n"
	       "Puts the ISO image `vdi` (an xvm.VDI or its ref) into the empty CD\n"
	       "drive (VBD.insert); a running guest sees the new disc at once.\n"
	       "xvm.VBDNotEmpty if the drive holds a disc; xvm.VDIIsNotIso for a\n"
	       "disk; xvm.VBDNotRemovableMedia for a disk drive."),
	METHOD("eject", vbd_eject, METH_NOARGS,
	       "eject($self, /)\n--\n\n"
	       "Takes the disc out of the CD drive (VBD.eject). xvm.VBDIsEmpty if it\n"
	       "holds none; xvm.VBDNotRemovableMedia for a disk drive."),
	METHOD("destroy", vbd_destroy, METH_NOARGS,
	       "destroy($self, /)\n--\n\n"
	       "Deletes the drive, not its VDI (VBD.destroy).\n"
	       "xvm.DeviceAlreadyAttached while it is plugged into a running VM."),
	{NULL},
};

/* --- Connection calls -------------------------------------------------------------- */

const char conn_create_sr_doc[] =
	"create_sr($self, /, type, name_label, device_config=None, content_type='', shared=False, sm_config=None)\n"
	"--\n\n"
	"Makes new storage of `type` ('file', 'ext', 'iso', 'nfs', 'lvm') and\n"
	"its SR, plugged into this host (SR.create). device_config and sm_config\n"
	"are dicts of str to str (None: {}), e.g. device_config={'location':\n"
	"'/srv/images'}; content_type '' takes the type's default. Returns the\n"
	"xvm.SR. xvm.SRUnknownDriver for an unknown type; xvm.SRBackendFailure\n"
	"if the driver cannot use the device_config; xvm.SRDeviceInUse if the\n"
	"storage is another SR's.";

PyObject *conn_create_sr(ConnectionObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"type", "name_label", "device_config", "content_type", "shared", "sm_config", NULL};
	const char *type, *name_label, *content_type = "";
	PyObject *dc_obj = NULL, *sm_obj = NULL;
	int shared = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "ss|OspO:create_sr", kwlist, &type, &name_label, &dc_obj,
					 &content_type, &shared, &sm_obj))
		return NULL;
	struct json_object *dc = map_arg(dc_obj, "device_config");
	struct json_object *sm = dc ? map_arg(sm_obj, "sm_config") : NULL;
	char *ref = NULL;
	int r = -1;
	if (sm)
		XVM_UNLOCKED(self, r, xvm_sr_create(h, dc, name_label, type, content_type, shared, sm, &ref));
	json_object_put(dc);
	json_object_put(sm);
	return made(self, "SR", r, ref);
}

const char conn_introduce_sr_doc[] =
	"introduce_sr($self, /, uuid, type, name_label, content_type='', shared=False, sm_config=None)\n"
	"--\n\n"
	"Records existing storage, such as a forgotten SR's, as the SR `uuid`\n"
	"without a PBD (SR.introduce); create_pbd and PBD.plug then attach it.\n"
	"Returns the xvm.SR.";

PyObject *conn_introduce_sr(ConnectionObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"uuid", "type", "name_label", "content_type", "shared", "sm_config", NULL};
	const char *uuid, *type, *name_label, *content_type = "";
	PyObject *sm_obj = NULL;
	int shared = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sss|spO:introduce_sr", kwlist, &uuid, &type, &name_label,
					 &content_type, &shared, &sm_obj))
		return NULL;
	struct json_object *sm = map_arg(sm_obj, "sm_config");
	if (!sm)
		return NULL;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(uuid));
	json_object_array_add(a, json_object_new_string(name_label));
	json_object_array_add(a, json_object_new_string(""));
	json_object_array_add(a, json_object_new_string(type));
	json_object_array_add(a, json_object_new_string(content_type));
	json_object_array_add(a, json_object_new_boolean(shared));
	json_object_array_add(a, sm);
	return call_making(self, "SR.introduce", a, "SR");
}

const char conn_create_pbd_doc[] =
	"create_pbd($self, /, sr, device_config=None)\n--\n\n"
	"Records how this host reaches the SR `sr` (an xvm.SR or its ref):\n"
	"a new, unplugged xvm.PBD with `device_config` (a dict of str to str;\n"
	"None: {}) (PBD.create). xvm.PBDExists if the host has one for the SR;\n"
	"xvm.SRDeviceInUse if the storage is another SR's.";

PyObject *conn_create_pbd(ConnectionObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"sr", "device_config", NULL};
	PyObject *sr_obj, *dc_obj = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:create_pbd", kwlist, &sr_obj, &dc_obj))
		return NULL;
	const char *sr = object_ref_arg(sr_obj, pyclass_lookup("SR"), "sr");
	struct json_object *dc = sr ? map_arg(dc_obj, "device_config") : NULL;
	if (!dc)
		return NULL;
	struct json_object *rec = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(rec, "SR", json_object_new_string(sr));
	json_object_object_add(rec, "device_config", dc);
	json_object_array_add(a, rec);
	return call_making(self, "PBD.create", a, "PBD");
}

const char conn_create_vdi_doc[] =
	"create_vdi($self, /, sr, name_label, size, format='qcow2')\n--\n\n"
	"SR.create_vdi on the SR `sr` (an xvm.SR or its ref).\n" CREATE_VDI_DOC;

PyObject *conn_create_vdi(ConnectionObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"sr", "name_label", "size", "format", NULL};
	PyObject *sr_obj;
	const char *name_label, *format = "qcow2";
	long long size;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OsL|s:create_vdi", kwlist, &sr_obj, &name_label, &size, &format))
		return NULL;
	const char *sr = object_ref_arg(sr_obj, pyclass_lookup("SR"), "sr");
	return sr ? create_vdi(self, sr, name_label, size, format) : NULL;
}

const char conn_create_vbd_doc[] =
	"create_vbd($self, /, vm, vdi=None, userdevice='autodetect', type='Disk', mode='RW', bootable=False)\n"
	"--\n\n"
	"A new drive of the VM `vm` holding the VDI `vdi` (objects or refs;\n"
	"vdi None: an empty CD drive) at position `userdevice` ('0'..'15', an\n"
	"int, or 'autodetect': the first free one) (VBD.create). type 'Disk' or\n"
	"'CD' (ISO images only, read-only), mode 'RW' or 'RO'. Returns the\n"
	"xvm.VBD, attached when the VM next starts (plug() it into a running\n"
	"one). xvm.DeviceAlreadyExists if the position is taken;\n"
	"xvm.VDIIsNotIso, xvm.VDIReadOnly for a VDI the drive cannot take.";

PyObject *conn_create_vbd(ConnectionObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"vm", "vdi", "userdevice", "type", "mode", "bootable", NULL};
	PyObject *vm_obj, *vdi_obj = Py_None, *dev_obj = NULL;
	const char *type = "Disk", *mode = "RW";
	int bootable = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOssp:create_vbd", kwlist, &vm_obj, &vdi_obj, &dev_obj, &type,
					 &mode, &bootable))
		return NULL;
	const char *vm = object_ref_arg(vm_obj, pyclass_lookup("VM"), "vm");
	const char *vdi = vm && vdi_obj != Py_None ? object_ref_arg(vdi_obj, pyclass_lookup("VDI"), "vdi") : NULL;
	if (!vm || (!vdi && vdi_obj != Py_None))
		return NULL;
	/* An int position is its decimal str, as XenAPI's userdevice is. */
	PyObject *dev = !dev_obj ? PyUnicode_FromString("autodetect")
		: PyLong_Check(dev_obj) ? PyObject_Str(dev_obj) : Py_NewRef(dev_obj);
	const char *userdevice = dev && PyUnicode_Check(dev) ? PyUnicode_AsUTF8(dev) : NULL;
	if (dev && !PyUnicode_Check(dev))
		PyErr_Format(PyExc_TypeError, "userdevice must be a str or an int, not %.100s", Py_TYPE(dev)->tp_name);
	char *ref = NULL;
	int r = -1;
	if (userdevice)
		XVM_UNLOCKED(self, r, xvm_vbd_create(h, vm, vdi, userdevice, type, mode, bootable, &ref));
	Py_XDECREF(dev);
	return made(self, "VBD", r, ref);
}
