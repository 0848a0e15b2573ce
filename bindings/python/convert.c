/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxvm's JSON values to Python and back. Plain conversion for generic
 * calls; typed conversion, led by the class metadata, for fields and
 * records: refs become objects of the right class ("OpaqueRef:NULL" None),
 * datetimes aware datetime objects. Always called with the GIL held.
 */
#include "xvmpy.h"

#include <datetime.h>
#include <stdio.h>
#include <string.h>

#define NULL_REF "OpaqueRef:NULL"

int convert_init(void)
{
	PyDateTime_IMPORT;
	return PyDateTimeAPI ? 0 : -1;
}

static PyObject *string_to_py(struct json_object *j)
{
	return PyUnicode_FromStringAndSize(json_object_get_string(j), json_object_get_string_len(j));
}

PyObject *json_to_py(struct json_object *j)
{
	switch (json_object_get_type(j)) {
	case json_type_null:
		Py_RETURN_NONE;
	case json_type_boolean:
		return PyBool_FromLong(json_object_get_boolean(j));
	case json_type_double:
		return PyFloat_FromDouble(json_object_get_double(j));
	case json_type_int:
		return PyLong_FromLongLong(json_object_get_int64(j));
	case json_type_string:
		return string_to_py(j);
	case json_type_array: {
		size_t n = json_object_array_length(j);
		PyObject *list = PyList_New((Py_ssize_t)n);
		for (size_t i = 0; list && i < n; i++) {
			PyObject *v = json_to_py(json_object_array_get_idx(j, i));
			if (!v)
				Py_CLEAR(list);
			else
				PyList_SET_ITEM(list, i, v);
		}
		return list;
	}
	case json_type_object: {
		PyObject *dict = PyDict_New();
		json_object_object_foreach(j, key, val) {
			PyObject *v = dict ? json_to_py(val) : NULL;
			if (!v || PyDict_SetItemString(dict, key, v) < 0)
				Py_CLEAR(dict);
			Py_XDECREF(v);
			if (!dict)
				break;
		}
		return dict;
	}
	}
	PyErr_SetString(PyExc_SystemError, "unknown JSON type from libxvm");
	return NULL;
}

static PyObject *ref_to_py(ConnectionObject *conn, const struct pyclass *cls, struct json_object *j)
{
	if (!json_object_is_type(j, json_type_string))
		return json_to_py(j);
	const char *ref = json_object_get_string(j);
	if (strcmp(ref, NULL_REF) == 0)
		Py_RETURN_NONE;
	return object_new(conn, cls, ref);
}

/* The number in text[from, from + len) if it is all digits, else -1. */
static int digits(const char *text, int from, int len)
{
	int v = 0;
	for (int i = from; i < from + len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	return v;
}

/* XenAPI's "20261125T17:24:18Z" as an aware datetime; other text stays a str. */
static PyObject *datetime_to_py(struct json_object *j)
{
	const char *t = json_object_get_string(j);
	if (!json_object_is_type(j, json_type_string) || json_object_get_string_len(j) != 18 || t[8] != 'T' ||
	    t[11] != ':' || t[14] != ':' || t[17] != 'Z')
		return json_to_py(j);
	int y = digits(t, 0, 4), mo = digits(t, 4, 2), d = digits(t, 6, 2);
	int h = digits(t, 9, 2), mi = digits(t, 12, 2), s = digits(t, 15, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0)
		return json_to_py(j);
	/* Out-of-range fields raise ValueError, as a bad datetime should. */
	return PyDateTimeAPI->DateTime_FromDateAndTime(y, mo, d, h, mi, s, 0, PyDateTime_TimeZone_UTC,
						       PyDateTimeAPI->DateTimeType);
}

/* An enum value as the field's shared str: records repeat a few values.
 * Lengths first: enum values are ASCII, so a str's length is its size. */
static PyObject *enum_to_py(const struct pyfield *f, struct json_object *j)
{
	if (!json_object_is_type(j, json_type_string))
		return json_to_py(j);
	const char *s = json_object_get_string(j);
	Py_ssize_t len = json_object_get_string_len(j);
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(f->enum_strs); i++) {
		PyObject *v = PyTuple_GET_ITEM(f->enum_strs, i);
		if (PyUnicode_GET_LENGTH(v) == len && memcmp(s, f->info->enum_values[i], (size_t)len) == 0)
			return Py_NewRef(v);
	}
	return json_to_py(j);
}

static PyObject *list_to_py(ConnectionObject *conn, const struct pyfield *f, struct json_object *j,
			    PyObject *(*elem)(ConnectionObject *, const struct pyfield *, struct json_object *))
{
	size_t n = json_object_array_length(j);
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list && i < n; i++) {
		PyObject *v = elem(conn, f, json_object_array_get_idx(j, i));
		if (!v)
			Py_CLEAR(list);
		else
			PyList_SET_ITEM(list, i, v);
	}
	return list;
}

static PyObject *ref_elem(ConnectionObject *conn, const struct pyfield *f, struct json_object *j)
{
	return ref_to_py(conn, f->ref_cls, j);
}

static PyObject *enum_elem(ConnectionObject *conn, const struct pyfield *f, struct json_object *j)
{
	return enum_to_py(f, j);
}

PyObject *field_to_py(ConnectionObject *conn, const struct pyfield *f, struct json_object *j)
{
	if (f->info->type == XVM_TYPE_REF && f->ref_cls)
		return ref_to_py(conn, f->ref_cls, j);
	if (f->info->type == XVM_TYPE_DATETIME)
		return datetime_to_py(j);
	if (f->info->type == XVM_TYPE_ENUM && f->enum_strs != Py_None)
		return enum_to_py(f, j);
	if (f->info->type == XVM_TYPE_SET && json_object_is_type(j, json_type_array)) {
		if (f->ref_cls)
			return list_to_py(conn, f, j, ref_elem);
		if (f->enum_strs != Py_None)
			return list_to_py(conn, f, j, enum_elem);
	}
	return json_to_py(j);
}

static struct json_object *sequence_to_json(PyObject *o)
{
	PyObject *seq = PySequence_Fast(o, "expected a sequence");
	if (!seq)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	struct json_object *a = json_object_new_array_ext((int)n);
	for (Py_ssize_t i = 0; a && i < n; i++) {
		struct json_object *v = py_to_json(PySequence_Fast_GET_ITEM(seq, i));
		if (!v || json_object_array_add(a, v) < 0) {
			json_object_put(v);
			json_object_put(a);
			a = NULL;
		}
	}
	Py_DECREF(seq);
	return a;
}

static struct json_object *dict_to_json(PyObject *o)
{
	struct json_object *obj = json_object_new_object();
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	while (obj && PyDict_Next(o, &pos, &k, &v)) {
		const char *key = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
		struct json_object *jv = key ? py_to_json(v) : NULL;
		if (!key && !PyErr_Occurred())
			PyErr_Format(PyExc_TypeError, "map keys must be str, not %.100s", Py_TYPE(k)->tp_name);
		if (!jv || json_object_object_add(obj, key, jv) < 0) {
			json_object_put(jv);
			json_object_put(obj);
			obj = NULL;
		}
	}
	return obj;
}

static struct json_object *datetime_to_json(PyObject *o)
{
	/* Aware datetimes in UTC, naive ones as given: XenAPI's text is UTC. */
	PyObject *utc = PyDateTime_DATE_GET_TZINFO(o) != Py_None
		? PyObject_CallMethod(o, "astimezone", "O", PyDateTime_TimeZone_UTC) : Py_NewRef(o);
	if (!utc)
		return NULL;
	char text[32];
	snprintf(text, sizeof(text), "%04d%02d%02dT%02d:%02d:%02dZ", PyDateTime_GET_YEAR(utc),
		 PyDateTime_GET_MONTH(utc), PyDateTime_GET_DAY(utc), PyDateTime_DATE_GET_HOUR(utc),
		 PyDateTime_DATE_GET_MINUTE(utc), PyDateTime_DATE_GET_SECOND(utc));
	Py_DECREF(utc);
	return json_object_new_string(text);
}

struct json_object *py_to_json(PyObject *o)
{
	if (o == Py_None)
		return json_object_new_null();
	if (PyBool_Check(o))
		return json_object_new_boolean(o == Py_True);
	if (PyLong_Check(o)) {
		long long v = PyLong_AsLongLong(o);
		return v == -1 && PyErr_Occurred() ? NULL : json_object_new_int64(v);
	}
	if (PyFloat_Check(o))
		return json_object_new_double(PyFloat_AS_DOUBLE(o));
	if (PyUnicode_Check(o)) {
		Py_ssize_t len;
		const char *s = PyUnicode_AsUTF8AndSize(o, &len);
		return s ? json_object_new_string_len(s, (int)len) : NULL;
	}
	if (PyObject_TypeCheck(o, &XenObjectType))
		return py_to_json(((XenObject *)o)->ref);
	if (PyDateTime_Check(o))
		return datetime_to_json(o);
	if (PyDict_Check(o))
		return dict_to_json(o);
	if (PyList_Check(o) || PyTuple_Check(o) || PyAnySet_Check(o))
		return sequence_to_json(o);
	PyErr_Format(PyExc_TypeError, "cannot pass a %.100s to libxvm", Py_TYPE(o)->tp_name);
	return NULL;
}
