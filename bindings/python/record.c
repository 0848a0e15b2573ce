/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm.Record, what record() and records() return: a mutable mapping that
 * behaves as the dict of typed fields it stands for, but converts lazily.
 * It keeps libxvm's JSON and converts a value (refs to objects, datetimes,
 * ...) the first time it is read, then keeps it, so that reading a record
 * for a field or two costs little more than the call. The first use that
 * needs the whole record (iterating, views, comparing, repr, pickling, any
 * change) turns it into a plain dict, converting what is left: from then
 * on every operation is that dict's. Always used with the GIL held.
 *
 * Converting allocates, and an allocation may run the garbage collector,
 * whose finalizers may use this very record: conversions hold their own
 * reference to the JSON and look again at the record once done.
 */
#include "xvmpy.h"

#include <string.h>

typedef struct {
	PyObject_HEAD
	ConnectionObject *conn;
	const struct pyclass *cls;
	struct json_object *json;  /* the record from libxvm; NULL once a dict */
	PyObject **values;         /* field i's value once read; NULL until a first read */
	PyObject *dict;            /* the whole record, once converted */
} RecordObject;

static PyTypeObject RecordType;

PyObject *record_new(ConnectionObject *conn, const struct pyclass *cls, struct json_object *json)
{
	if (!json_object_is_type(json, json_type_object))
		return json_to_py(json);
	RecordObject *r = PyObject_GC_New(RecordObject, &RecordType);
	if (!r)
		return NULL;
	r->conn = (ConnectionObject *)Py_NewRef(conn);
	r->cls = cls;
	r->json = json_object_get(json);
	r->values = NULL;
	r->dict = NULL;
	PyObject_GC_Track(r);
	return (PyObject *)r;
}

/*
 * The eager conversion, taking the values read so far. A copy of the
 * template is a dict already sized for every field, in the class's order,
 * so filling it never resizes; and the records of a class list their
 * fields in one order, so key k is checked against the field it was last
 * time before any search.
 */
static PyObject *whole_dict(RecordObject *self, struct json_object *rec)
{
	const struct pyclass *cls = self->cls;
	size_t n = cls->info->nfields, k = 0, seen = 0;
	PyObject *dict = PyDict_Copy(cls->record_template);
	json_object_object_foreach(rec, key, val) {
		if (!dict)
			break;
		size_t i = k < n && strcmp(key, cls->fields[cls->key_order[k]].info->name) == 0
			? cls->key_order[k] : pyclass_field_index(cls, key);
		PyObject *v;
		int r;
		if (i < n) {
			if (k < n)
				cls->key_order[k] = i;
			seen++;
			v = self->values && self->values[i] ? Py_NewRef(self->values[i])
							    : field_to_py(self->conn, &cls->fields[i], val);
			r = v ? PyDict_SetItem(dict, cls->fields[i].key, v) : -1;
		} else {
			v = json_to_py(val);
			r = v ? PyDict_SetItemString(dict, key, v) : -1;
		}
		Py_XDECREF(v);
		if (r < 0)
			Py_CLEAR(dict);
		k++;
	}
	/* Fields absent from the record leave the template's keys: drop them. */
	for (size_t i = 0; dict && seen < n && i < n; i++)
		if (!json_object_object_get_ex(rec, cls->fields[i].info->name, NULL) &&
		    PyDict_DelItem(dict, cls->fields[i].key) < 0)
			Py_CLEAR(dict);
	return dict;
}

static void drop_values(RecordObject *self)
{
	PyObject **values = self->values;
	self->values = NULL;
	for (size_t i = 0; values && i < self->cls->info->nfields; i++)
		Py_XDECREF(values[i]);
	PyMem_Free(values);
}

/* Makes the record a plain dict: self->dict. */
static int become_dict(RecordObject *self)
{
	if (self->dict)
		return 0;
	struct json_object *json = json_object_get(self->json);
	PyObject *dict = whole_dict(self, json);
	json_object_put(json);
	if (!dict)
		return -1;
	if (self->dict) {
		/* A finalizer made it a dict meanwhile, maybe changed it since. */
		Py_DECREF(dict);
		return 0;
	}
	self->dict = dict;
	drop_values(self);
	json_object_put(self->json);
	self->json = NULL;
	return 0;
}

/* The dict `o` stands for, borrowed: a record's own, or o itself. */
static PyObject *as_dict(PyObject *o)
{
	if (!PyObject_TypeCheck(o, &RecordType))
		return o;
	RecordObject *r = (RecordObject *)o;
	return become_dict(r) < 0 ? NULL : r->dict;
}

enum { ABSENT, FIELD, IN_DICT };

/*
 * Where `key` is in a record not yet a dict: the field *i, whose JSON is
 * *val (NULL if read before); ABSENT; or IN_DICT, a key the class does not know but the record
 * has (from a newer libxvm), that only the dict answers for. -1 with an
 * exception set, such as a dict's TypeError for an unhashable key.
 */
static int locate(RecordObject *self, PyObject *key, size_t *i, struct json_object **val)
{
	PyObject *index = PyDict_GetItemWithError(self->cls->field_index, key);
	if (index) {
		*i = PyLong_AsSize_t(index);
		*val = NULL;
		/* A field read before is present; no need to look in the JSON. */
		if (self->values && self->values[*i])
			return FIELD;
		return json_object_object_get_ex(self->json, self->cls->fields[*i].info->name, val) ? FIELD : ABSENT;
	}
	if (PyErr_Occurred())
		return -1;
	Py_ssize_t len;
	const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &len) : NULL;
	if (!name) {
		/* Not text that can be a JSON key (a lone surrogate, ...): absent. */
		PyErr_Clear();
		return ABSENT;
	}
	return strlen(name) == (size_t)len && json_object_object_get_ex(self->json, name, NULL) ? IN_DICT : ABSENT;
}

/* Field i's value, converted from its JSON `val` on the first read and kept. */
static PyObject *field_value(RecordObject *self, size_t i, struct json_object *val)
{
	if (self->values && self->values[i])
		return Py_NewRef(self->values[i]);
	struct json_object *json = json_object_get(self->json);
	PyObject *v = field_to_py(self->conn, &self->cls->fields[i], val);
	json_object_put(json);
	if (!v)
		return NULL;
	if (self->dict) {
		/* A finalizer made the record a dict meanwhile: the dict answers. */
		Py_DECREF(v);
		return Py_XNewRef(PyDict_GetItemWithError(self->dict, self->cls->fields[i].key));
	}
	if (!self->values && !(self->values = PyMem_Calloc(self->cls->info->nfields, sizeof(*self->values)))) {
		Py_DECREF(v);
		return PyErr_NoMemory();
	}
	if (self->values[i])
		Py_SETREF(v, Py_NewRef(self->values[i]));   /* a finalizer read it meanwhile */
	else
		self->values[i] = Py_NewRef(v);
	return v;
}

/* self[key] as a new reference; NULL, without an exception, if absent. */
static PyObject *lookup(RecordObject *self, PyObject *key)
{
	size_t i;
	struct json_object *val;
	int where = self->dict ? IN_DICT : locate(self, key, &i, &val);
	if (where == FIELD)
		return field_value(self, i, val);
	if (where != IN_DICT || become_dict(self) < 0)
		return NULL;
	return Py_XNewRef(PyDict_GetItemWithError(self->dict, key));
}

static PyObject *record_subscript(RecordObject *self, PyObject *key)
{
	PyObject *v = lookup(self, key);
	if (!v && !PyErr_Occurred()) {
		/* In a tuple, as a dict raises it: a tuple key would be taken for the args. */
		PyObject *args = PyTuple_Pack(1, key);
		if (args)
			PyErr_SetObject(PyExc_KeyError, args);
		Py_XDECREF(args);
	}
	return v;
}

static int record_contains(RecordObject *self, PyObject *key)
{
	size_t i;
	struct json_object *val;
	int where = self->dict ? IN_DICT : locate(self, key, &i, &val);
	if (where != IN_DICT)
		return where < 0 ? -1 : where == FIELD;
	return become_dict(self) < 0 ? -1 : PyDict_Contains(self->dict, key);
}

static Py_ssize_t record_length(RecordObject *self)
{
	/* Every JSON key is one of the dict's: a field present or one the class does not know. */
	return self->dict ? PyDict_GET_SIZE(self->dict) : json_object_object_length(self->json);
}

static int record_ass_subscript(RecordObject *self, PyObject *key, PyObject *value)
{
	if (become_dict(self) < 0)
		return -1;
	return value ? PyDict_SetItem(self->dict, key, value) : PyDict_DelItem(self->dict, key);
}

static PyObject *record_iter(RecordObject *self)
{
	return become_dict(self) < 0 ? NULL : PyObject_GetIter(self->dict);
}

static PyObject *record_repr(RecordObject *self)
{
	return become_dict(self) < 0 ? NULL : PyObject_Repr(self->dict);
}

static PyObject *record_richcompare(PyObject *self, PyObject *other, int op)
{
	if (op != Py_EQ && op != Py_NE)
		Py_RETURN_NOTIMPLEMENTED;
	PyObject *a = as_dict(self), *b = a ? as_dict(other) : NULL;
	return b ? PyObject_RichCompare(a, b, op) : NULL;
}

/* rec | other and other | rec, as between dicts: a new dict. */
static PyObject *record_or(PyObject *left, PyObject *right)
{
	PyObject *a = as_dict(left), *b = a ? as_dict(right) : NULL;
	if (!b)
		return NULL;
	if (!PyDict_Check(a) || !PyDict_Check(b))
		Py_RETURN_NOTIMPLEMENTED;
	return PyNumber_Or(a, b);
}

static PyObject *record_inplace_or(RecordObject *self, PyObject *other)
{
	PyObject *b = become_dict(self) < 0 ? NULL : as_dict(other);
	PyObject *r = b ? PyNumber_InPlaceOr(self->dict, b) : NULL;
	if (!r)
		return NULL;
	Py_DECREF(r);
	return Py_NewRef((PyObject *)self);
}

static PyObject *record_get(RecordObject *self, PyObject *args)
{
	PyObject *key, *fallback = Py_None;
	if (!PyArg_UnpackTuple(args, "get", 1, 2, &key, &fallback))
		return NULL;
	PyObject *v = lookup(self, key);
	return v || PyErr_Occurred() ? v : Py_NewRef(fallback);
}

/* Any other method: the dict's. Its name is interned once, so that the
 * lookup hits the type's attribute cache. */
static PyObject *dict_method(RecordObject *self, PyObject **name, const char *s, PyObject *args, PyObject *kwargs)
{
	if (!*name && !(*name = PyUnicode_InternFromString(s)))
		return NULL;
	if (become_dict(self) < 0)
		return NULL;
	PyObject *m = PyObject_GetAttr(self->dict, *name);
	PyObject *r = m ? PyObject_Call(m, args, kwargs) : NULL;
	Py_XDECREF(m);
	return r;
}

#define DICT_METHOD(name) \
	static PyObject *record_##name(RecordObject *self, PyObject *args, PyObject *kwargs) \
	{ \
		static PyObject *interned; \
		return dict_method(self, &interned, #name, args, kwargs); \
	}
DICT_METHOD(keys)
DICT_METHOD(items)
DICT_METHOD(values)
DICT_METHOD(pop)
DICT_METHOD(popitem)
DICT_METHOD(setdefault)
DICT_METHOD(update)
DICT_METHOD(clear)
DICT_METHOD(copy)
DICT_METHOD(__reversed__)
#undef DICT_METHOD

/* Pickled and copied as the dict (an object is no use without its connection). */
static PyObject *record_reduce(RecordObject *self, PyObject *unused)
{
	PyObject *items = become_dict(self) < 0 ? NULL : PyDict_Items(self->dict);
	PyObject *it = items ? PyObject_GetIter(items) : NULL;
	Py_XDECREF(items);
	return it ? Py_BuildValue("O()OON", (PyObject *)&PyDict_Type, Py_None, Py_None, it) : NULL;
}

/* The connection is no container (nor are objects): cycles go through values and the dict. */
static int record_traverse(RecordObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->dict);
	for (size_t i = 0; self->values && i < self->cls->info->nfields; i++)
		Py_VISIT(self->values[i]);
	return 0;
}

/* Breaks a cycle and leaves a record still usable: values read again, or an empty dict. */
static int record_gc_clear(RecordObject *self)
{
	drop_values(self);
	if (self->dict)
		PyDict_Clear(self->dict);
	return 0;
}

static void record_dealloc(RecordObject *self)
{
	PyObject_GC_UnTrack(self);
	drop_values(self);
	Py_XDECREF(self->dict);
	Py_DECREF(self->conn);
	json_object_put(self->json);
	PyObject_GC_Del(self);
}

#define AS_DICT(name) "As dict." name "(): the record becomes a plain dict first."
#define DICT_ENTRY(name, doc) {#name, (PyCFunction)(void (*)(void))record_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef record_methods[] = {
	{"get", (PyCFunction)record_get, METH_VARARGS,
	 "get($self, key, default=None, /)\n--\n\nrec[key] if key is in the record, else default."},
	DICT_ENTRY(keys, AS_DICT("keys")),
	DICT_ENTRY(items, AS_DICT("items")),
	DICT_ENTRY(values, AS_DICT("values")),
	DICT_ENTRY(pop, AS_DICT("pop")),
	DICT_ENTRY(popitem, AS_DICT("popitem")),
	DICT_ENTRY(setdefault, AS_DICT("setdefault")),
	DICT_ENTRY(update, AS_DICT("update")),
	DICT_ENTRY(clear, AS_DICT("clear")),
	DICT_ENTRY(copy, "A shallow copy of the record, as a dict."),
	DICT_ENTRY(__reversed__, AS_DICT("__reversed__")),
	{"__reduce__", (PyCFunction)record_reduce, METH_NOARGS, "Pickles and copies the record as a dict."},
	{NULL},
};
#undef DICT_ENTRY
#undef AS_DICT

static PyNumberMethods record_number = {
	.nb_or = record_or,
	.nb_inplace_or = (binaryfunc)record_inplace_or,
};

static PyMappingMethods record_mapping = {
	.mp_length = (lenfunc)record_length,
	.mp_subscript = (binaryfunc)record_subscript,
	.mp_ass_subscript = (objobjargproc)record_ass_subscript,
};

static PySequenceMethods record_sequence = {
	.sq_contains = (objobjproc)record_contains,
};

PyDoc_STRVAR(record_doc,
"One object's record, from obj.record() or coll.records(): a mapping from\n"
"XenAPI field name to value, typed as the attributes are, that behaves as\n"
"a dict (a collections.abc.MutableMapping, not a dict subclass). A value\n"
"is converted when first read; iterating, views, ==, repr or any change\n"
"convert the rest. Changes stay in the record, a snapshot, as in a dict.\n"
"rec.copy() or dict(rec) is a plain dict; copies and pickles are too.");

static PyTypeObject RecordType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "xvm.Record",
	.tp_basicsize = sizeof(RecordObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_MAPPING,
	.tp_doc = record_doc,
	.tp_dealloc = (destructor)record_dealloc,
	.tp_traverse = (traverseproc)record_traverse,
	.tp_clear = (inquiry)record_gc_clear,
	.tp_repr = (reprfunc)record_repr,
	.tp_hash = PyObject_HashNotImplemented,
	.tp_richcompare = record_richcompare,
	.tp_iter = (getiterfunc)record_iter,
	.tp_as_number = &record_number,
	.tp_as_mapping = &record_mapping,
	.tp_as_sequence = &record_sequence,
	.tp_methods = record_methods,
};

/* xvm.Record, registered as a collections.abc.MutableMapping. */
int record_init(PyObject *module)
{
	if (PyType_Ready(&RecordType) < 0 || PyModule_AddObjectRef(module, "Record", (PyObject *)&RecordType) < 0)
		return -1;
	PyObject *abc = PyImport_ImportModule("collections.abc");
	PyObject *mm = abc ? PyObject_GetAttrString(abc, "MutableMapping") : NULL;
	PyObject *r = mm ? PyObject_CallMethod(mm, "register", "O", (PyObject *)&RecordType) : NULL;
	Py_XDECREF(abc);
	Py_XDECREF(mm);
	Py_XDECREF(r);
	return r ? 0 : -1;
}
