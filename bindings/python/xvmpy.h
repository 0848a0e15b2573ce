/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared declarations of the `xvm` Python module. The module wraps libxvm
 * and nothing else: every operation is a libxvm call made with the GIL
 * released, every value crosses as libxvm's JSON.
 */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <xvm/xvm.h>

/* --- The module (module.c) ------------------------------------------------ */

/* PyModule_AddObject that always takes `o` (NULL: a failed constructor). */
int module_add(PyObject *module, const char *name, PyObject *o);

/* --- Connections (connection.c) ------------------------------------------ */

typedef struct {
	PyObject_HEAD
	xvm_conn *handle;   /* NULL once closed */
	Py_ssize_t busy;    /* calls in flight with the GIL released */
	bool closing;       /* close() came while calls were in flight */
	PyObject *uri;      /* str */
} ConnectionObject;

extern PyTypeObject *ConnectionType;

int connection_init(PyObject *module);
PyObject *connection_open(const char *uri);
/* The handle for one call; NULL, with xvm.SessionInvalid set, once closed. */
xvm_conn *conn_enter(ConnectionObject *c);
/* After the call, with the GIL held: finishes a close() that had to wait. */
void conn_leave(ConnectionObject *c);

/*
 * Evaluates `expr`, a libxvm call on the handle `h`, with the GIL released.
 * On failure r < 0 and a Python exception is set. The error is read before
 * conn_leave(), whose deferred disconnect would be this thread's next
 * libxvm call.
 */
#define XVM_UNLOCKED(conn, r, expr) \
	do { \
		xvm_conn *h = conn_enter(conn); \
		if (!h) { \
			(r) = -1; \
			break; \
		} \
		Py_BEGIN_ALLOW_THREADS \
		(r) = (expr); \
		Py_END_ALLOW_THREADS \
		if ((r) < 0) \
			error_raise(r); \
		conn_leave(conn); \
	} while (0)

/* --- XenAPI classes (objects.c) ------------------------------------------ */

struct pyclass;

/* One field of a class, the closure of its attribute. */
struct pyfield {
	const struct pyclass *cls;
	const struct xvm_field_info *info;
	const struct pyclass *ref_cls; /* for REF and SET of REF; NULL otherwise */
	PyObject *key;                 /* the interned name */
	PyObject *enum_strs;           /* for ENUM and SET of ENUM: each value's str, shared */
};

struct pyclass {
	const struct xvm_class_info *info;
	PyTypeObject *type;   /* xvm.VM, xvm.host, ... */
	struct pyfield *fields;
	PyObject *record_template; /* every field name -> None, copied per record */
	PyObject *field_index;     /* every field name -> its index (int) */
	size_t *key_order;    /* field index of a record's k-th key, as last seen (GIL held) */
};

typedef struct {
	PyObject_HEAD
	ConnectionObject *conn;
	PyObject *ref;              /* str, "OpaqueRef:..." */
	const struct pyclass *cls;
} XenObject;

extern PyTypeObject XenObjectType;
extern struct pyclass *pyclasses;
extern size_t npyclasses;

int objects_init(PyObject *module);
const struct pyclass *pyclass_lookup(const char *name);
/* A new object of `cls` for `ref`. */
PyObject *object_new(ConnectionObject *conn, const struct pyclass *cls, const char *ref);
/* The index of the field `name` in cls; nfields if none. */
size_t pyclass_field_index(const struct pyclass *cls, const char *name);

/* --- VM methods (vm.c) ----------------------------------------------------- */

extern PyMethodDef vm_methods[];

/* --- Collections: conn.vms, conn.hosts, ... (collection.c) ----------------- */

enum template_filter { FILTER_NONE, FILTER_NOT_TEMPLATES, FILTER_TEMPLATES };

int collection_init(PyObject *module);
PyObject *collection_new(ConnectionObject *conn, const struct pyclass *cls, enum template_filter filter);

/* --- Records (record.c) -------------------------------------------------- */

int record_init(PyObject *module);
/* An xvm.Record of `cls` over the JSON record `rec` (it keeps a reference). */
PyObject *record_new(ConnectionObject *conn, const struct pyclass *cls, struct json_object *rec);

/* --- Errors (errors.c) ----------------------------------------------------- */

int errors_init(PyObject *module);
/* Raises the exception for libxvm's failure r (this thread's last error); returns NULL. */
PyObject *error_raise(int r);
/* Raises xvm.SessionInvalid: the connection was closed. */
PyObject *error_closed(void);

/* --- JSON <-> Python (convert.c) ------------------------------------------ */

int convert_init(void);
/* Any JSON value as plain Python values (refs stay strings). */
PyObject *json_to_py(struct json_object *j);
/* A field's value typed by the class metadata: refs as objects, datetimes as datetime. */
PyObject *field_to_py(ConnectionObject *conn, const struct pyfield *f, struct json_object *j);
/* A Python value as JSON (objects become their refs); NULL with an exception set. */
struct json_object *py_to_json(PyObject *o);
