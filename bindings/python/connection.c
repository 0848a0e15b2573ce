/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm.Connection: one xvm_conn, its collections (conn.vms, conn.hosts, ...,
 * generated from the class list) and the calls that are not about one
 * object. Objects hold a reference to their connection, so it stays open
 * while they are in use; after close() every call raises
 * xvm.SessionInvalid. A close() during calls in flight on other threads
 * is finished by the last of them: the handle is never freed under a call.
 */
#include "xvmpy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

PyTypeObject *ConnectionType;

xvm_conn *conn_enter(ConnectionObject *c)
{
	if (!c->handle || c->closing) {
		error_closed();
		return NULL;
	}
	c->busy++;
	return c->handle;
}

static void disconnect(ConnectionObject *c)
{
	xvm_conn *h = c->handle;
	c->handle = NULL;
	Py_BEGIN_ALLOW_THREADS
	xvm_disconnect(h);
	Py_END_ALLOW_THREADS
}

void conn_leave(ConnectionObject *c)
{
	if (--c->busy == 0 && c->closing)
		disconnect(c);
}

PyObject *connection_open(const char *uri, const char *user, const char *password)
{
	xvm_conn *h = NULL;
	int r;
	Py_BEGIN_ALLOW_THREADS
	r = xvm_connect_auth(uri, user, password, 0, &h);
	Py_END_ALLOW_THREADS
	if (r < 0)
		return error_raise(r);
	ConnectionObject *c = PyObject_New(ConnectionObject, ConnectionType);
	if (c) {
		c->handle = h;
		c->busy = 0;
		c->closing = false;
		c->uri = PyUnicode_FromString(xvm_conn_get_uri(h));
	}
	if (!c) {
		xvm_disconnect(h);
		return NULL;
	}
	if (!c->uri) {
		Py_DECREF(c); /* its dealloc disconnects */
		return NULL;
	}
	return (PyObject *)c;
}

static void connection_dealloc(ConnectionObject *self)
{
	PyTypeObject *type = Py_TYPE(self);
	if (self->handle)
		disconnect(self);
	Py_XDECREF(self->uri);
	PyObject_Free(self);
	Py_DECREF(type);
}

static PyObject *connection_repr(ConnectionObject *self)
{
	return PyUnicode_FromFormat("<xvm.Connection %R%s>", self->uri, self->handle && !self->closing ? "" : " closed");
}

PyDoc_STRVAR(close_doc,
"close($self, /)\n--\n\n"
"Closes the connection (running VMs keep running). Idempotent. Later calls\n"
"through it, or through objects from it, raise xvm.SessionInvalid.");

static PyObject *connection_close(ConnectionObject *self, PyObject *unused)
{
	if (!self->handle || self->closing)
		Py_RETURN_NONE;
	if (self->busy > 0) {
		/* Calls in flight on other threads: the last one out disconnects. */
		self->closing = true;
		Py_RETURN_NONE;
	}
	disconnect(self);
	Py_RETURN_NONE;
}

static PyObject *connection_enter(ConnectionObject *self, PyObject *unused)
{
	return Py_NewRef((PyObject *)self);
}

static PyObject *connection_exit(ConnectionObject *self, PyObject *args)
{
	PyObject *r = connection_close(self, NULL);
	Py_XDECREF(r);
	return r ? Py_NewRef(Py_False) : NULL;
}

PyDoc_STRVAR(call_doc,
"call($self, method, /, *args)\n--\n\n"
"Calls any method of the API by its XenAPI name, e.g.\n"
"conn.call('VM.get_record', vm.ref): the escape hatch to everything libxvm\n"
"serves (conn.methods() lists it). Arguments are converted to JSON\n"
"(objects become their refs); the result comes back as plain Python values\n"
"(refs as str), None for methods that return nothing.");

static PyObject *connection_call(ConnectionObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs < 1 || !PyUnicode_Check(args[0])) {
		PyErr_SetString(PyExc_TypeError, "call() needs a method name (str), e.g. 'VM.get_record'");
		return NULL;
	}
	const char *method = PyUnicode_AsUTF8(args[0]);
	struct json_object *jargs = method ? json_object_new_array_ext((int)nargs - 1) : NULL, *res = NULL;
	for (Py_ssize_t i = 1; jargs && i < nargs; i++) {
		struct json_object *v = py_to_json(args[i]);
		if (!v) {
			json_object_put(jargs);
			jargs = NULL;
		} else {
			json_object_array_add(jargs, v);
		}
	}
	if (!jargs)
		return PyErr_Occurred() ? NULL : PyErr_NoMemory();
	int r;
	XVM_UNLOCKED(self, r, xvm_call(h, method, jargs, &res));
	json_object_put(jargs);
	if (r < 0)
		return NULL;
	PyObject *o = json_to_py(res);
	json_object_put(res);
	return o;
}

PyDoc_STRVAR(methods_doc,
"methods($self, /)\n--\n\n"
"The names of every method the connection serves, e.g. 'VM.start', as a list.");

static PyObject *connection_methods(ConnectionObject *self, PyObject *unused)
{
	struct json_object *res = NULL;
	int r;
	XVM_UNLOCKED(self, r, xvm_list_methods(h, &res));
	if (r < 0)
		return NULL;
	PyObject *o = json_to_py(res);
	json_object_put(res);
	return o;
}

PyDoc_STRVAR(install_doc,
"install($self, template, name, /)\n--\n\n"
"Creates a VM from a template (its name_label, UUID, ref or xvm.VM object)\n"
"named `name`, as xe vm-install: a Halted copy with the disks the template\n"
"asks for. Returns the new xvm.VM. xvm.UnknownTemplate if there is no such\n"
"template.");

static PyObject *connection_install(ConnectionObject *self, PyObject *args)
{
	PyObject *template;
	const char *name;
	if (!PyArg_ParseTuple(args, "Os:install", &template, &name))
		return NULL;
	const struct pyclass *vm = pyclass_lookup("VM");
	const char *tname = object_ref_arg(template, vm, "template");
	if (!tname)
		return NULL;
	char *ref = NULL;
	int r;
	XVM_UNLOCKED(self, r, xvm_vm_install(h, tname, name, 0, &ref));
	return r < 0 ? NULL : object_take(self, vm, ref);
}

static PyMethodDef connection_methods_table[] = {
	{"close", (PyCFunction)connection_close, METH_NOARGS, close_doc},
	{"__enter__", (PyCFunction)connection_enter, METH_NOARGS, NULL},
	{"__exit__", (PyCFunction)connection_exit, METH_VARARGS, "Closes the connection."},
	{"call", (PyCFunction)(void (*)(void))connection_call, METH_FASTCALL, call_doc},
	{"methods", (PyCFunction)connection_methods, METH_NOARGS, methods_doc},
	{"install", (PyCFunction)connection_install, METH_VARARGS, install_doc},
	{"create_sr", (PyCFunction)(void (*)(void))conn_create_sr, METH_VARARGS | METH_KEYWORDS, conn_create_sr_doc},
	{"introduce_sr", (PyCFunction)(void (*)(void))conn_introduce_sr, METH_VARARGS | METH_KEYWORDS,
	 conn_introduce_sr_doc},
	{"create_pbd", (PyCFunction)(void (*)(void))conn_create_pbd, METH_VARARGS | METH_KEYWORDS, conn_create_pbd_doc},
	{"create_vdi", (PyCFunction)(void (*)(void))conn_create_vdi, METH_VARARGS | METH_KEYWORDS, conn_create_vdi_doc},
	{"create_vbd", (PyCFunction)(void (*)(void))conn_create_vbd, METH_VARARGS | METH_KEYWORDS, conn_create_vbd_doc},
	{"create_network", (PyCFunction)(void (*)(void))conn_create_network, METH_VARARGS | METH_KEYWORDS,
	 conn_create_network_doc},
	{"create_vif", (PyCFunction)(void (*)(void))conn_create_vif, METH_VARARGS | METH_KEYWORDS, conn_create_vif_doc},
	{"create_vtpm", (PyCFunction)(void (*)(void))conn_create_vtpm, METH_VARARGS | METH_KEYWORDS,
	 conn_create_vtpm_doc},
	{NULL},
};

static PyObject *connection_get_uri(ConnectionObject *self, void *unused)
{
	return Py_NewRef(self->uri);
}

static PyObject *connection_get_closed(ConnectionObject *self, void *unused)
{
	return PyBool_FromLong(!self->handle || self->closing);
}

/* The closure of a collection attribute. */
struct collection_attr {
	const struct pyclass *cls;
	enum template_filter filter;
};

static PyObject *connection_get_collection(ConnectionObject *self, void *closure)
{
	const struct collection_attr *a = closure;
	return collection_new(self, a->cls, a->filter);
}

/* "VM" -> "vms", "host" -> "hosts", "VM_metrics" -> "vm_metrics" (kept for the type's life). */
static char *collection_name(const char *cls)
{
	size_t n = strlen(cls);
	char *s = PyMem_RawMalloc(n + 2);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)cls[i]);
	s[n] = 's';
	s[n + (cls[n - 1] != 's')] = '\0';
	return s;
}

static int add_collection(PyGetSetDef *g, struct collection_attr *a, const struct pyclass *cls,
			  enum template_filter filter, const char *name)
{
	char doc[256];
	snprintf(doc, sizeof(doc), "The %s%s objects on this connection%s (xvm.Collection).",
		 filter == FILTER_TEMPLATES ? "template " : "", cls->info->name,
		 filter == FILTER_NOT_TEMPLATES ? " that are not templates" : "");
	char *name_copy = name ? NULL : collection_name(cls->info->name);
	char *doc_copy = PyMem_RawMalloc(strlen(doc) + 1);
	if ((!name && !name_copy) || !doc_copy) {
		PyErr_NoMemory();
		return -1;
	}
	strcpy(doc_copy, doc);
	*a = (struct collection_attr){cls, filter};
	*g = (PyGetSetDef){name ? name : name_copy, (getter)connection_get_collection, NULL, doc_copy, a};
	return 0;
}

PyDoc_STRVAR(connection_doc,
"A connection to xvm, from xvm.connect(uri). A context manager: `with\n"
"xvm.connect(uri) as conn:` closes it on exit. Collections of objects:\n"
"conn.vms (VMs that are not templates), conn.templates, and one per class\n"
"(conn.hosts, conn.srs, conn.vdis, ...). A connection may be used from\n"
"several threads at once; calls run without the GIL.");

int connection_init(PyObject *module)
{
	/* One attribute per class, plus templates, plus uri and closed. */
	size_t n = npyclasses + 1;
	PyGetSetDef *getset = PyMem_RawCalloc(n + 3, sizeof(*getset));
	struct collection_attr *attrs = PyMem_RawCalloc(n, sizeof(*attrs));
	if (!getset || !attrs) {
		PyErr_NoMemory();
		return -1;
	}
	for (size_t i = 0; i < npyclasses; i++) {
		bool vm = strcmp(pyclasses[i].info->name, "VM") == 0;
		if (add_collection(&getset[i], &attrs[i], &pyclasses[i], vm ? FILTER_NOT_TEMPLATES : FILTER_NONE,
				   NULL) < 0)
			return -1;
	}
	if (add_collection(&getset[npyclasses], &attrs[npyclasses], pyclass_lookup("VM"), FILTER_TEMPLATES,
			   "templates") < 0)
		return -1;
	getset[n] = (PyGetSetDef){"uri", (getter)connection_get_uri, NULL, "The URI, after defaults were applied.", NULL};
	getset[n + 1] = (PyGetSetDef){"closed", (getter)connection_get_closed, NULL, "True once close() was called.", NULL};
	PyType_Slot slots[] = {
		{Py_tp_dealloc, connection_dealloc},
		{Py_tp_repr, connection_repr},
		{Py_tp_methods, connection_methods_table},
		{Py_tp_getset, getset},
		{Py_tp_doc, (void *)connection_doc},
		{0, NULL},
	};
	PyType_Spec spec = {"xvm.Connection", sizeof(ConnectionObject), 0,
			    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, slots};
	ConnectionType = (PyTypeObject *)PyType_FromSpec(&spec);
	if (!ConnectionType)
		return -1;
	return PyModule_AddObjectRef(module, "Connection", (PyObject *)ConnectionType);
}
