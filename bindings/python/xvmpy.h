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
/* xvm_connect_auth: user and password for a remote daemon, NULL for none. */
PyObject *connection_open(const char *uri, const char *user, const char *password);
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
/* object_new for a ref libxvm returned, which it frees. */
PyObject *object_take(ConnectionObject *conn, const struct pyclass *cls, char *ref);

/* A method of one libxvm call on the object, returning None: obj.op(). */
typedef int (*object_op_fn)(xvm_conn *conn, const char *ref);
PyObject *object_op(XenObject *self, object_op_fn op);
/* The same with an int argument: obj.op(n). */
typedef int (*object_int_fn)(xvm_conn *conn, const char *ref, int64_t value);
PyObject *object_int_op(XenObject *self, PyObject *arg, object_int_fn op);

/*
 * The ref an argument names: an object of `cls` or a str (a ref, or for
 * the calls that take them a name or UUID). NULL with a TypeError naming
 * the argument `what` otherwise. Borrowed from `o`.
 */
const char *object_ref_arg(PyObject *o, const struct pyclass *cls, const char *what);

/* Method-table calls for the methods libxvm has no typed call for (storage.c):
 * one whose result is the ref of a new object of `cls` (args is put); one on
 * the object itself, returning None: Class.op(self). */
PyObject *call_making(ConnectionObject *conn, const char *method, struct json_object *args, const char *cls);
PyObject *call_on_self(XenObject *self, const char *method);
/* A map argument (None: {}) as a JSON object; NULL with a TypeError if it is no dict. */
struct json_object *map_arg(PyObject *o, const char *what);

/* --- VM methods (vm.c) ----------------------------------------------------- */

extern PyMethodDef vm_methods[];

/* --- Storage: SR, PBD, VDI, VBD methods and their Connection calls (storage.c) */

extern PyMethodDef sr_methods[], pbd_methods[], vdi_methods[], vbd_methods[];

PyObject *conn_create_sr(ConnectionObject *self, PyObject *args, PyObject *kwargs);
PyObject *conn_introduce_sr(ConnectionObject *self, PyObject *args, PyObject *kwargs);
PyObject *conn_create_pbd(ConnectionObject *self, PyObject *args, PyObject *kwargs);
PyObject *conn_create_vdi(ConnectionObject *self, PyObject *args, PyObject *kwargs);
PyObject *conn_create_vbd(ConnectionObject *self, PyObject *args, PyObject *kwargs);
extern const char conn_create_sr_doc[], conn_introduce_sr_doc[], conn_create_pbd_doc[], conn_create_vdi_doc[],
	conn_create_vbd_doc[];

/* --- Networks: network and VIF methods and their Connection calls (network.c) */

extern PyMethodDef network_methods[], vif_methods[];

PyObject *conn_create_network(ConnectionObject *self, PyObject *args, PyObject *kwargs);
PyObject *conn_create_vif(ConnectionObject *self, PyObject *args, PyObject *kwargs);
extern const char conn_create_network_doc[], conn_create_vif_doc[];

/* --- vTPMs: VTPM methods and conn.create_vtpm (vtpm.c) -------------------- */

extern PyMethodDef vtpm_methods[];

PyObject *conn_create_vtpm(ConnectionObject *self, PyObject *args, PyObject *kwargs);
extern const char conn_create_vtpm_doc[];

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
