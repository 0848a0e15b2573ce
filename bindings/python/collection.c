/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm.Collection: the objects of one class on a connection (conn.vms,
 * conn.hosts, ...). conn.vms and conn.templates split class VM on
 * is_a_template, as xe's vm-list and template-list do.
 */
#include "xvmpy.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	PyObject_HEAD
	ConnectionObject *conn;
	const struct pyclass *cls;
	enum template_filter filter;
} CollectionObject;

static PyTypeObject CollectionType;

PyObject *collection_new(ConnectionObject *conn, const struct pyclass *cls, enum template_filter filter)
{
	CollectionObject *c = PyObject_New(CollectionObject, &CollectionType);
	if (!c)
		return NULL;
	c->conn = (ConnectionObject *)Py_NewRef(conn);
	c->cls = cls;
	c->filter = filter;
	return (PyObject *)c;
}

static void collection_dealloc(CollectionObject *self)
{
	Py_DECREF(self->conn);
	PyObject_Free(self);
}

static PyObject *collection_repr(CollectionObject *self)
{
	const char *what = self->filter == FILTER_TEMPLATES ? " templates" : "";
	return PyUnicode_FromFormat("<xvm.Collection %s%s on %R>", self->cls->info->name, what, self->conn->uri);
}

/* Whether a record (with is_a_template) belongs in the collection. */
static bool wanted(const CollectionObject *self, struct json_object *rec)
{
	if (self->filter == FILTER_NONE)
		return true;
	struct json_object *t = json_object_object_get(rec, "is_a_template");
	return json_object_get_boolean(t) == (self->filter == FILTER_TEMPLATES);
}

/* The keys of a ref -> record object whose records are wanted, as objects. */
static PyObject *objects_of_records(CollectionObject *self, struct json_object *records)
{
	PyObject *list = PyList_New(0);
	json_object_object_foreach(records, ref, rec) {
		if (!list || !wanted(self, rec))
			continue;
		PyObject *o = object_new(self->conn, self->cls, ref);
		if (!o || PyList_Append(list, o) < 0)
			Py_CLEAR(list);
		Py_XDECREF(o);
	}
	return list;
}

static PyObject *objects_of_refs(CollectionObject *self, struct json_object *refs)
{
	size_t n = json_object_array_length(refs);
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list && i < n; i++) {
		PyObject *o = object_new(self->conn, self->cls, json_object_get_string(json_object_array_get_idx(refs, i)));
		if (!o)
			Py_CLEAR(list);
		else
			PyList_SET_ITEM(list, i, o);
	}
	return list;
}

static const char *const filter_fields[] = {"is_a_template", NULL};

PyDoc_STRVAR(all_doc,
"all($self, /)\n--\n\n"
"Every object of the collection, as a list (one get_all call; for VMs and\n"
"templates one get_all_records_fields call on is_a_template).");

static PyObject *collection_all(CollectionObject *self, PyObject *unused)
{
	struct json_object *res = NULL;
	const char *cls = self->cls->info->name;
	int r;
	if (self->filter == FILTER_NONE)
		XVM_UNLOCKED(self->conn, r, xvm_object_get_all(h, cls, &res));
	else
		XVM_UNLOCKED(self->conn, r, xvm_object_get_all_records_fields(h, cls, filter_fields, &res));
	if (r < 0)
		return NULL;
	PyObject *list = self->filter == FILTER_NONE ? objects_of_refs(self, res) : objects_of_records(self, res);
	json_object_put(res);
	return list;
}

/*
 * get_by_name_label, then for VMs and templates is_a_template of each
 * match; all libxvm calls, made without the GIL. *out: ref -> record.
 */
static int by_name_records(xvm_conn *h, const char *cls, const char *name, struct json_object **out)
{
	struct json_object *refs = NULL, *records = json_object_new_object();
	int r = xvm_object_get_by_name_label(h, cls, name, &refs);
	for (size_t i = 0; r >= 0 && i < json_object_array_length(refs); i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, i));
		struct json_object *flag = NULL, *rec = json_object_new_object();
		r = xvm_object_get_field(h, cls, ref, "is_a_template", &flag);
		if (r >= 0)
			json_object_object_add(rec, "is_a_template", flag);
		json_object_object_add(records, ref, rec);
	}
	json_object_put(refs);
	if (r < 0)
		json_object_put(records);
	else
		*out = records;
	return r;
}

PyDoc_STRVAR(by_name_doc,
"by_name($self, name, /)\n--\n\n"
"The objects whose name_label is `name`, as a list (names need not be unique).");

static PyObject *collection_by_name(CollectionObject *self, PyObject *arg)
{
	const char *name = PyUnicode_AsUTF8(arg), *cls = self->cls->info->name;
	struct json_object *res = NULL;
	int r;
	if (!name)
		return NULL;
	if (self->filter == FILTER_NONE)
		XVM_UNLOCKED(self->conn, r, xvm_object_get_by_name_label(h, cls, name, &res));
	else
		XVM_UNLOCKED(self->conn, r, by_name_records(h, cls, name, &res));
	if (r < 0)
		return NULL;
	PyObject *list = self->filter == FILTER_NONE ? objects_of_refs(self, res) : objects_of_records(self, res);
	json_object_put(res);
	return list;
}

PyDoc_STRVAR(records_doc,
"records($self, /)\n--\n\n"
"Every object's record in one get_all_records call, as a dict object ->\n"
"xvm.Record (keys also match ref strs: records[vm] or records[vm.ref]).");

static PyObject *collection_records(CollectionObject *self, PyObject *unused)
{
	struct json_object *all = NULL;
	int r;
	XVM_UNLOCKED(self->conn, r, xvm_object_get_all_records(h, self->cls->info->name, &all));
	if (r < 0)
		return NULL;
	PyObject *dict = PyDict_New();
	json_object_object_foreach(all, ref, rec) {
		if (!dict || !wanted(self, rec))
			continue;
		PyObject *o = object_new(self->conn, self->cls, ref);
		PyObject *d = o ? record_new(self->conn, self->cls, rec) : NULL;
		if (!d || PyDict_SetItem(dict, o, d) < 0)
			Py_CLEAR(dict);
		Py_XDECREF(o);
		Py_XDECREF(d);
	}
	json_object_put(all);
	return dict;
}

/* conn.vms[uuid]: any object of the class, templates included. */
static PyObject *collection_getitem(CollectionObject *self, PyObject *key)
{
	const char *uuid = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
	char *ref = NULL;
	int r;
	if (!uuid) {
		if (!PyErr_Occurred())
			PyErr_Format(PyExc_TypeError, "a %s is looked up by its UUID (str), not by %.100s",
				     self->cls->info->name, Py_TYPE(key)->tp_name);
		return NULL;
	}
	XVM_UNLOCKED(self->conn, r, xvm_object_get_by_uuid(h, self->cls->info->name, uuid, &ref));
	return r < 0 ? NULL : object_take(self->conn, self->cls, ref);
}

static PyObject *collection_iter(CollectionObject *self)
{
	PyObject *list = collection_all(self, NULL);
	PyObject *it = list ? PyObject_GetIter(list) : NULL;
	Py_XDECREF(list);
	return it;
}

static Py_ssize_t collection_len(CollectionObject *self)
{
	PyObject *list = collection_all(self, NULL);
	Py_ssize_t n = list ? PyList_GET_SIZE(list) : -1;
	Py_XDECREF(list);
	return n;
}

static PyMethodDef collection_methods[] = {
	{"all", (PyCFunction)collection_all, METH_NOARGS, all_doc},
	{"by_name", (PyCFunction)collection_by_name, METH_O, by_name_doc},
	{"records", (PyCFunction)collection_records, METH_NOARGS, records_doc},
	{NULL},
};

static PyMappingMethods collection_mapping = {
	.mp_length = (lenfunc)collection_len,
	.mp_subscript = (binaryfunc)collection_getitem,
};

PyDoc_STRVAR(collection_doc,
"The objects of one XenAPI class on a connection: conn.vms, conn.templates,\n"
"conn.hosts, conn.srs, ... Iterating and len() fetch the list afresh;\n"
"coll[uuid] is one get_by_uuid call (xvm.UuidInvalid, a KeyError, if no\n"
"object of the class has that UUID; conn.vms[uuid] also finds templates).");

static PyTypeObject CollectionType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "xvm.Collection",
	.tp_basicsize = sizeof(CollectionObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = collection_doc,
	.tp_dealloc = (destructor)collection_dealloc,
	.tp_repr = (reprfunc)collection_repr,
	.tp_iter = (getiterfunc)collection_iter,
	.tp_as_mapping = &collection_mapping,
	.tp_methods = collection_methods,
};

int collection_init(PyObject *module)
{
	if (PyType_Ready(&CollectionType) < 0)
		return -1;
	return PyModule_AddObjectRef(module, "Collection", (PyObject *)&CollectionType);
}
