/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XenAPI classes as Python types, generated at import from libxvm's
 * class metadata: one type per class (xvm.VM, xvm.host, ...) deriving from
 * xvm.XenObject, one attribute per field. An object is a reference plus
 * the connection it came from; reading a field is a get_field call,
 * assigning an RW field a set_field call.
 */
#include "xvmpy.h"

#include <stdlib.h>
#include <string.h>

struct pyclass *pyclasses;
size_t npyclasses;

static PyTypeObject *FieldInfoType;

const struct pyclass *pyclass_lookup(const char *name)
{
	for (size_t i = 0; i < npyclasses; i++)
		if (strcmp(pyclasses[i].info->name, name) == 0)
			return &pyclasses[i];
	return NULL;
}

size_t pyclass_field_index(const struct pyclass *cls, const char *name)
{
	size_t i = 0;
	while (i < cls->info->nfields && strcmp(cls->fields[i].info->name, name) != 0)
		i++;
	return i;
}

static const struct pyclass *pyclass_of_type(PyTypeObject *type)
{
	for (size_t i = 0; i < npyclasses; i++)
		if (PyType_IsSubtype(type, pyclasses[i].type))
			return &pyclasses[i];
	return NULL;
}

static PyObject *object_new_str(ConnectionObject *conn, const struct pyclass *cls, PyObject *ref)
{
	XenObject *o = (XenObject *)cls->type->tp_alloc(cls->type, 0);
	if (!o)
		return NULL;
	o->conn = (ConnectionObject *)Py_NewRef(conn);
	o->ref = Py_NewRef(ref);
	o->cls = cls;
	return (PyObject *)o;
}

PyObject *object_new(ConnectionObject *conn, const struct pyclass *cls, const char *ref)
{
	PyObject *s = PyUnicode_FromString(ref);
	PyObject *o = s ? object_new_str(conn, cls, s) : NULL;
	Py_XDECREF(s);
	return o;
}

PyObject *object_take(ConnectionObject *conn, const struct pyclass *cls, char *ref)
{
	PyObject *o = object_new(conn, cls, ref);
	free(ref);
	return o;
}

PyObject *object_op(XenObject *self, object_op_fn op)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	int r;
	if (!ref)
		return NULL;
	XVM_UNLOCKED(self->conn, r, op(h, ref));
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyObject *object_int_op(XenObject *self, PyObject *arg, object_int_fn op)
{
	const char *ref = PyUnicode_AsUTF8(self->ref);
	long long value = ref ? PyLong_AsLongLong(arg) : -1;
	if (!ref || (value == -1 && PyErr_Occurred()))
		return NULL;
	int r;
	XVM_UNLOCKED(self->conn, r, op(h, ref, value));
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

const char *object_ref_arg(PyObject *o, const struct pyclass *cls, const char *what)
{
	if (PyObject_TypeCheck(o, &XenObjectType) && ((XenObject *)o)->cls == cls)
		return PyUnicode_AsUTF8(((XenObject *)o)->ref);
	if (PyUnicode_Check(o))
		return PyUnicode_AsUTF8(o);
	PyErr_Format(PyExc_TypeError, "%s must be an xvm.%s or a str, not %.100s", what, cls->info->name,
		     Py_TYPE(o)->tp_name);
	return NULL;
}

/* --- xvm.XenObject ------------------------------------------------------- */

static PyObject *xenobject_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"connection", "ref", NULL};
	PyObject *conn, *ref;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!U", kwlist, ConnectionType, &conn, &ref))
		return NULL;
	const struct pyclass *cls = pyclass_of_type(type);
	if (!cls) {
		PyErr_SetString(PyExc_TypeError, "xvm.XenObject is abstract: use a class such as xvm.VM");
		return NULL;
	}
	return object_new_str((ConnectionObject *)conn, cls, ref);
}

static void xenobject_dealloc(XenObject *self)
{
	PyTypeObject *type = Py_TYPE(self);
	Py_XDECREF(self->conn);
	Py_XDECREF(self->ref);
	type->tp_free(self);
	if (type->tp_flags & Py_TPFLAGS_HEAPTYPE)
		Py_DECREF(type);
}

/* No I/O: a repr must work on a closed connection and in a debugger. */
static PyObject *xenobject_repr(XenObject *self)
{
	return PyUnicode_FromFormat("<%s %U>", Py_TYPE(self)->tp_name, self->ref);
}

static Py_hash_t xenobject_hash(XenObject *self)
{
	return PyObject_Hash(self->ref);
}

/* Equal by ref, to an object of the same class or to the ref's str, so
 * that records() dicts answer both records[vm] and records[vm.ref]. */
static PyObject *xenobject_richcompare(XenObject *self, PyObject *other, int op)
{
	if (op != Py_EQ && op != Py_NE)
		Py_RETURN_NOTIMPLEMENTED;
	PyObject *other_ref;
	if (PyUnicode_Check(other))
		other_ref = other;
	else if (PyObject_TypeCheck(other, &XenObjectType) && ((XenObject *)other)->cls == self->cls)
		other_ref = ((XenObject *)other)->ref;
	else
		Py_RETURN_NOTIMPLEMENTED;
	return PyObject_RichCompare(self->ref, other_ref, op);
}

PyDoc_STRVAR(record_doc,
"record($self, /)\n--\n\n"
"Every field of the object in one get_record call, as an xvm.Record: a\n"
"mapping from XenAPI field name to value, typed as the attributes are,\n"
"that behaves as a dict.");

static PyObject *xenobject_record(XenObject *self, PyObject *unused)
{
	struct json_object *rec = NULL;
	const char *ref = PyUnicode_AsUTF8(self->ref);
	int r;
	if (!ref)
		return NULL;
	XVM_UNLOCKED(self->conn, r, xvm_object_get_record(h, self->cls->info->name, ref, &rec));
	if (r < 0)
		return NULL;
	PyObject *d = record_new(self->conn, self->cls, rec);
	json_object_put(rec);
	return d;
}

PyDoc_STRVAR(add_to_doc,
"add_to($self, /, field, key, value=None)\n--\n\n"
"Adds key=value to the map field `field` (add_to_<field>; a present key\n"
"raises xvm.MapDuplicateKey), or the element `key` to the set field\n"
"`field` (add_<field>; value stays None).");

static PyObject *xenobject_add_to(XenObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"field", "key", "value", NULL};
	const char *field, *key, *value = NULL, *ref = PyUnicode_AsUTF8(self->ref);
	int r;
	if (!ref || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss|z:add_to", kwlist, &field, &key, &value))
		return NULL;
	XVM_UNLOCKED(self->conn, r, xvm_object_add_to_field(h, self->cls->info->name, ref, field, key, value));
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyDoc_STRVAR(remove_from_doc,
"remove_from($self, /, field, key)\n--\n\n"
"Removes `key` from the map field `field` (remove_from_<field>) or the\n"
"element `key` from the set field `field` (remove_<field>). An absent key\n"
"is not an error.");

static PyObject *xenobject_remove_from(XenObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"field", "key", NULL};
	const char *field, *key, *ref = PyUnicode_AsUTF8(self->ref);
	int r;
	if (!ref || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:remove_from", kwlist, &field, &key))
		return NULL;
	XVM_UNLOCKED(self->conn, r, xvm_object_remove_from_field(h, self->cls->info->name, ref, field, key));
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef xenobject_methods[] = {
	{"record", (PyCFunction)xenobject_record, METH_NOARGS, record_doc},
	{"add_to", (PyCFunction)(void (*)(void))xenobject_add_to, METH_VARARGS | METH_KEYWORDS, add_to_doc},
	{"remove_from", (PyCFunction)(void (*)(void))xenobject_remove_from, METH_VARARGS | METH_KEYWORDS,
	 remove_from_doc},
	{NULL},
};

static PyObject *xenobject_get_ref(XenObject *self, void *unused)
{
	return Py_NewRef(self->ref);
}

static PyObject *xenobject_get_connection(XenObject *self, void *unused)
{
	return Py_NewRef((PyObject *)self->conn);
}

static PyGetSetDef xenobject_getset[] = {
	{"ref", (getter)xenobject_get_ref, NULL, "The XenAPI reference, \"OpaqueRef:...\" (str).", NULL},
	{"connection", (getter)xenobject_get_connection, NULL, "The xvm.Connection the object came from.", NULL},
	{NULL},
};

PyDoc_STRVAR(xenobject_doc,
"XenObject(connection, ref)\n--\n\n"
"The base of the XenAPI classes (xvm.VM, xvm.host, ...): a reference and\n"
"the connection it belongs to. Objects are equal, and hash, by ref; an\n"
"object also equals its ref's str. Each field of the class is an attribute\n"
"read with a get_<field> call; RW fields can be assigned (set_<field>).\n"
"Class.fields describes them (xvm.FieldInfo).");

PyTypeObject XenObjectType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "xvm.XenObject",
	.tp_basicsize = sizeof(XenObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = xenobject_doc,
	.tp_new = xenobject_new,
	.tp_dealloc = (destructor)xenobject_dealloc,
	.tp_repr = (reprfunc)xenobject_repr,
	.tp_hash = (hashfunc)xenobject_hash,
	.tp_richcompare = (richcmpfunc)xenobject_richcompare,
	.tp_methods = xenobject_methods,
	.tp_getset = xenobject_getset,
};

/* --- Fields --------------------------------------------------------------- */

static PyObject *field_get(XenObject *self, void *closure)
{
	const struct pyfield *f = closure;
	struct json_object *v = NULL;
	const char *ref = PyUnicode_AsUTF8(self->ref);
	int r;
	if (!ref)
		return NULL;
	XVM_UNLOCKED(self->conn, r, xvm_object_get_field(h, f->cls->info->name, ref, f->info->name, &v));
	if (r < 0)
		return NULL;
	PyObject *o = field_to_py(self->conn, f, v);
	json_object_put(v);
	return o;
}

static int field_set(XenObject *self, PyObject *value, void *closure)
{
	const struct pyfield *f = closure;
	if (!value) {
		PyErr_Format(PyExc_AttributeError, "%s.%s cannot be deleted", f->cls->info->name, f->info->name);
		return -1;
	}
	const char *ref = PyUnicode_AsUTF8(self->ref);
	struct json_object *v = f->info->type == XVM_TYPE_REF && value == Py_None
		? json_object_new_string("OpaqueRef:NULL") : py_to_json(value);
	int r = ref && v ? 0 : -1;
	if (r == 0)
		XVM_UNLOCKED(self->conn, r, xvm_object_set_field(h, f->cls->info->name, ref, f->info->name, v));
	json_object_put(v);
	return r < 0 ? -1 : 0;
}

static const char *const type_names[] = {
	[XVM_TYPE_STRING] = "str", [XVM_TYPE_INT] = "int", [XVM_TYPE_FLOAT] = "float",
	[XVM_TYPE_BOOL] = "bool", [XVM_TYPE_DATETIME] = "datetime", [XVM_TYPE_ENUM] = "enum",
	[XVM_TYPE_REF] = "ref", [XVM_TYPE_SET] = "set", [XVM_TYPE_MAP] = "map",
};

static const char *type_name(enum xvm_type t)
{
	return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) && type_names[t] ? type_names[t] : "?";
}

/* Persistent copy for the type machinery, which keeps the pointers it is given. */
static char *persist(const char *s)
{
	char *copy = PyMem_RawMalloc(strlen(s) + 1);
	if (!copy)
		PyErr_NoMemory();
	else
		strcpy(copy, s);
	return copy;
}

/* "power_state (enum: Halted, Paused, ...; read-only): the description",
 * kept for the type's life. */
static char *field_doc(const struct xvm_field_info *fi)
{
	bool is_set = fi->type == XVM_TYPE_SET;
	enum xvm_type t = is_set ? fi->elem_type : fi->type;
	PyObject *s = PyUnicode_FromFormat("%s (%s", fi->name, is_set ? "list of " : "");
	if (s && t == XVM_TYPE_REF)
		PyUnicode_AppendAndDel(&s, PyUnicode_FromFormat("%s%s", fi->ref_class, is_set ? "" : " or None"));
	else if (s && fi->type == XVM_TYPE_MAP)
		PyUnicode_AppendAndDel(&s, PyUnicode_FromString("dict of str to str"));
	else if (s)
		PyUnicode_AppendAndDel(&s, PyUnicode_FromString(type_name(t)));
	for (const char *const *v = fi->enum_values; s && v && *v; v++)
		PyUnicode_AppendAndDel(&s, PyUnicode_FromFormat("%s%s", v == fi->enum_values ? ": " : ", ", *v));
	if (s)
		PyUnicode_AppendAndDel(&s, PyUnicode_FromFormat("; %s): %s",
			fi->qualifier == XVM_QUAL_RW ? "read-write" : "read-only",
			fi->description ? fi->description : ""));
	const char *utf8 = s ? PyUnicode_AsUTF8(s) : NULL;
	char *doc = utf8 ? persist(utf8) : NULL;
	Py_XDECREF(s);
	return doc;
}

static PyStructSequence_Field field_info_fields[] = {
	{"name", "the XenAPI field name"},
	{"type", "str, int, float, bool, datetime, enum, ref, set or map"},
	{"elem_type", "for a set: the elements' type; None otherwise"},
	{"ref_class", "for a ref or a set of refs: the class referred to; None otherwise"},
	{"enum_values", "for an enum or a set of enums: the tuple of values; None otherwise"},
	{"writable", "True for RW fields"},
	{"description", "what the field holds"},
	{NULL},
};

static PyStructSequence_Desc field_info_desc = {
	"xvm.FieldInfo", "The metadata of one field of a XenAPI class (Class.fields[name]).",
	field_info_fields, 7,
};

static PyObject *enum_tuple(const char *const *values)
{
	if (!values)
		Py_RETURN_NONE;
	Py_ssize_t n = 0;
	while (values[n])
		n++;
	PyObject *t = PyTuple_New(n);
	for (Py_ssize_t i = 0; t && i < n; i++) {
		PyObject *s = PyUnicode_FromString(values[i]);
		if (!s)
			Py_CLEAR(t);
		else
			PyTuple_SET_ITEM(t, i, s);
	}
	return t;
}

static PyObject *field_info_new(const struct xvm_field_info *fi)
{
	PyObject *info = PyStructSequence_New(FieldInfoType);
	if (!info)
		return NULL;
	PyObject *items[] = {
		PyUnicode_FromString(fi->name),
		PyUnicode_FromString(type_name(fi->type)),
		fi->type == XVM_TYPE_SET ? PyUnicode_FromString(type_name(fi->elem_type)) : Py_NewRef(Py_None),
		fi->ref_class ? PyUnicode_FromString(fi->ref_class) : Py_NewRef(Py_None),
		enum_tuple(fi->enum_values),
		PyBool_FromLong(fi->qualifier == XVM_QUAL_RW),
		PyUnicode_FromString(fi->description ? fi->description : ""),
	};
	bool failed = false;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		failed |= !items[i];
		PyStructSequence_SET_ITEM(info, i, items[i]);
	}
	if (failed)
		Py_CLEAR(info);
	return info;
}

/* The classes with methods of their own, beyond XenObject's. */
static PyMethodDef *class_methods(const char *cls)
{
	static const struct {
		const char *cls;
		PyMethodDef *methods;
	} table[] = {
		{"VM", vm_methods}, {"SR", sr_methods}, {"PBD", pbd_methods}, {"VDI", vdi_methods}, {"VBD", vbd_methods},
		{"network", network_methods}, {"VIF", vif_methods}, {"VTPM", vtpm_methods},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].cls, cls) == 0)
			return table[i].methods;
	return NULL;
}

/* The type of one class: its fields as attributes, its methods (VM's lifecycle, storage operations). */
static int build_class(PyObject *module, struct pyclass *pc, PyObject *by_name)
{
	size_t n = pc->info->nfields;
	PyGetSetDef *getset = PyMem_RawCalloc(n + 1, sizeof(*getset));
	PyObject *fields = PyDict_New();
	pc->fields = PyMem_RawCalloc(n, sizeof(*pc->fields));
	pc->key_order = PyMem_RawCalloc(n, sizeof(*pc->key_order));
	pc->record_template = PyDict_New();
	pc->field_index = PyDict_New();
	if (!getset || !pc->fields || !pc->key_order || !pc->record_template || !pc->field_index) {
		Py_XDECREF(fields);
		PyErr_NoMemory();
		return -1;
	}
	for (size_t i = 0; fields && i < n; i++) {
		struct pyfield *f = &pc->fields[i];
		f->cls = pc;
		f->info = xvm_class_field_at(pc->info, i);
		if (f->info->ref_class)
			f->ref_cls = pyclass_lookup(f->info->ref_class);
		f->key = PyUnicode_InternFromString(f->info->name);
		PyObject *fi = field_info_new(f->info);
		f->enum_strs = fi ? Py_NewRef(PyStructSequence_GET_ITEM(fi, 4)) : NULL;
		char *doc = field_doc(f->info);
		PyObject *index = PyLong_FromSize_t(i);
		if (!f->key || !fi || !doc || !f->enum_strs || !index || PyDict_SetItem(fields, f->key, fi) < 0 ||
		    PyDict_SetItem(pc->record_template, f->key, Py_None) < 0 ||
		    PyDict_SetItem(pc->field_index, f->key, index) < 0)
			Py_CLEAR(fields);
		Py_XDECREF(fi);
		Py_XDECREF(index);
		getset[i] = (PyGetSetDef){f->info->name, (getter)field_get,
					  f->info->qualifier == XVM_QUAL_RW ? (setter)field_set : NULL, doc, f};
	}
	char name[128], doc[1024];
	snprintf(name, sizeof(name), "xvm.%s", pc->info->name);
	snprintf(doc, sizeof(doc),
		 "%s(connection, ref)\n--\n\nXenAPI's %s class: %s.\n\n"
		 "Objects come from a Connection's collections, or from a ref. Each field\n"
		 "is an attribute; %s.fields describes them.",
		 pc->info->name, pc->info->name, pc->info->description, pc->info->name);
	PyMethodDef *methods = class_methods(pc->info->name);
	PyType_Slot slots[] = {
		/* Ours, not subtype_dealloc: it drops the type reference itself. */
		{Py_tp_dealloc, xenobject_dealloc},
		{Py_tp_getset, getset},
		{Py_tp_doc, doc},
		/* For a class without methods of its own this slot ends the list. */
		{methods ? Py_tp_methods : 0, methods},
		{0, NULL},
	};
	PyType_Spec spec = {persist(name), sizeof(XenObject), 0, Py_TPFLAGS_DEFAULT, slots};
	if (fields && spec.name)
		pc->type = (PyTypeObject *)PyType_FromSpecWithBases(&spec, (PyObject *)&XenObjectType);
	PyObject *proxy = pc->type && fields ? PyDictProxy_New(fields) : NULL;
	Py_XDECREF(fields);
	int r = proxy ? PyObject_SetAttrString((PyObject *)pc->type, "fields", proxy) : -1;
	Py_XDECREF(proxy);
	if (r == 0)
		r = PyDict_SetItemString(by_name, pc->info->name, (PyObject *)pc->type);
	if (r == 0)
		r = PyModule_AddObjectRef(module, pc->info->name, (PyObject *)pc->type);
	return r;
}

int objects_init(PyObject *module)
{
	FieldInfoType = PyStructSequence_NewType(&field_info_desc);
	if (!FieldInfoType || PyModule_AddObjectRef(module, "FieldInfo", (PyObject *)FieldInfoType) < 0 ||
	    PyType_Ready(&XenObjectType) < 0 || PyModule_AddObjectRef(module, "XenObject", (PyObject *)&XenObjectType) < 0)
		return -1;
	npyclasses = xvm_class_count();
	pyclasses = PyMem_RawCalloc(npyclasses, sizeof(*pyclasses));
	if (!pyclasses) {
		PyErr_NoMemory();
		return -1;
	}
	/* All infos first: fields refer to classes further down the list. */
	for (size_t i = 0; i < npyclasses; i++)
		pyclasses[i].info = xvm_class_at(i);
	PyObject *by_name = PyDict_New();
	for (size_t i = 0; by_name && i < npyclasses; i++)
		if (build_class(module, &pyclasses[i], by_name) < 0)
			Py_CLEAR(by_name);
	PyObject *proxy = by_name ? PyDictProxy_New(by_name) : NULL;
	Py_XDECREF(by_name);
	return module_add(module, "classes", proxy);
}
