/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm.Error and one subclass per libxvm error code, generated from the
 * library's code names, and turning libxvm's per-thread last error into
 * the right exception.
 */
#include "xvmpy.h"

#include <ctype.h>
#include <string.h>

static PyObject *error_base;   /* xvm.Error */
static PyObject *by_code;      /* wire code -> class */

/* Descriptions known to this build; a newer library's codes get a generic one. */
static const char *const descriptions[] = {
#define DESC_(name, desc) [XVM_ERR_##name] = desc,
	XVM_ERROR_CODES(DESC_)
#undef DESC_
};

/*
 * "VM_BAD_POWER_STATE" -> "VMBadPowerState", "UUID_INVALID" -> "UuidInvalid":
 * words that are upper-case XenAPI class names (VM, SR, VDI, ...) keep
 * their spelling, every other word is capitalised.
 */
static void camel_case(const char *code, char *out, size_t size)
{
	size_t n = 0;
	for (const char *w = code; *w && n + 1 < size;) {
		size_t len = strcspn(w, "_");
		char word[64];
		snprintf(word, sizeof(word), "%.*s", (int)len, w);
		const struct xvm_class_info *cls = xvm_class_lookup(word);
		for (size_t i = 0; i < len && n + 1 < size; i++)
			out[n++] = cls || i == 0 ? w[i] : (char)tolower((unsigned char)w[i]);
		w += len;
		w += *w == '_';
	}
	out[n] = '\0';
}

/* Error.__str__: the message alone (KeyError's own would quote it). */
static PyObject *error_str(PyObject *unused, PyObject *self)
{
	PyObject *args = PyObject_GetAttrString(self, "args");
	if (!args)
		return NULL;
	PyObject *s = PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 1
		? PyObject_Str(PyTuple_GET_ITEM(args, 0)) : PyObject_Str(args);
	Py_DECREF(args);
	return s;
}

static PyMethodDef error_str_def = {"__str__", error_str, METH_O, NULL};

static int add_class(PyObject *module, const char *code, const char *desc)
{
	char name[128], qualified[140];
	camel_case(code, name, sizeof(name));
	snprintf(qualified, sizeof(qualified), "xvm.%s", name);
	/* A bad UUID is a failed lookup: conn.vms[uuid] raises it as a KeyError would. */
	PyObject *bases = strcmp(code, "UUID_INVALID") == 0
		? PyTuple_Pack(2, error_base, PyExc_KeyError) : PyTuple_Pack(1, error_base);
	char doc[512];
	snprintf(doc, sizeof(doc), "%s: %s.", code, desc);
	PyObject *dict = Py_BuildValue("{s:s,s:s}", "code", code, "__doc__", doc);
	PyObject *cls = bases && dict ? PyErr_NewException(qualified, bases, dict) : NULL;
	Py_XDECREF(bases);
	Py_XDECREF(dict);
	int r = cls ? PyDict_SetItemString(by_code, code, cls) : -1;
	if (r == 0)
		r = PyModule_AddObjectRef(module, name, cls);
	Py_XDECREF(cls);
	return r;
}

/* Builds (does not raise) the exception for a wire code. */
static PyObject *make_error(const char *code, PyObject *params, PyObject *message)
{
	PyObject *cls = PyDict_GetItemString(by_code, code);
	PyObject *exc = PyObject_CallOneArg(cls ? cls : error_base, message);
	PyObject *code_str = exc ? PyUnicode_FromString(code) : NULL;
	if (!code_str || PyObject_SetAttrString(exc, "code", code_str) < 0 ||
	    PyObject_SetAttrString(exc, "params", params) < 0)
		Py_CLEAR(exc);
	Py_XDECREF(code_str);
	return exc;
}

PyObject *error_raise(int r)
{
	const struct xvm_error *e = xvm_last_error();
	const char *code = e ? e->name : xvm_error_code_name(r);
	if (!code)
		code = "INTERNAL_ERROR";
	PyObject *params = PyTuple_New(e ? (Py_ssize_t)e->nparams : 0);
	for (size_t i = 0; params && e && i < e->nparams; i++) {
		PyObject *p = PyUnicode_DecodeUTF8(e->params[i], strlen(e->params[i]), "replace");
		if (!p) {
			Py_CLEAR(params);
			break;
		}
		PyTuple_SET_ITEM(params, i, p);
	}
	const char *msg = e ? e->message : code;
	PyObject *message = params ? PyUnicode_DecodeUTF8(msg, strlen(msg), "replace") : NULL;
	PyObject *exc = message ? make_error(code, params, message) : NULL;
	if (exc)
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_XDECREF(exc);
	Py_XDECREF(message);
	Py_XDECREF(params);
	return NULL;
}

PyObject *error_closed(void)
{
	PyObject *params = PyTuple_New(0);
	PyObject *message = PyUnicode_FromString("the connection is closed");
	PyObject *exc = params && message ? make_error("SESSION_INVALID", params, message) : NULL;
	if (exc)
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_XDECREF(exc);
	Py_XDECREF(message);
	Py_XDECREF(params);
	return NULL;
}

PyDoc_STRVAR(error_for_doc,
"error_for(code, message='', params=())\n--\n\n"
"The exception xvm raises for the XenAPI error `code` (not raised): an\n"
"instance of the class for that code, or of xvm.Error for a code this\n"
"build does not know, with .code, .params and the message. For code that\n"
"relays XenAPI errors from elsewhere.");

static PyObject *error_for(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"code", "message", "params", NULL};
	const char *code;
	PyObject *message = NULL, *params = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|UO:error_for", kwlist, &code, &message, &params))
		return NULL;
	PyObject *tuple = params ? PySequence_Tuple(params) : PyTuple_New(0);
	PyObject *msg = message ? Py_NewRef(message) : PyUnicode_FromString("");
	PyObject *exc = tuple && msg ? make_error(code, tuple, msg) : NULL;
	Py_XDECREF(tuple);
	Py_XDECREF(msg);
	return exc;
}

static PyMethodDef error_for_def = {"error_for", (PyCFunction)(void (*)(void))error_for,
				    METH_VARARGS | METH_KEYWORDS, error_for_doc};

PyDoc_STRVAR(error_doc,
"A libxvm failure, XenAPI style.\n\n"
"Attributes: code, the XenAPI wire code (e.g. 'VM_BAD_POWER_STATE');\n"
"params, a tuple of str (e.g. (vm_ref, expected, actual)); str(e) is the\n"
"message for a human. Each code has its subclass (xvm.VMBadPowerState, ...;\n"
"xvm.errors maps codes to classes); a code this build does not know\n"
"raises xvm.Error itself with the code kept.");

int errors_init(PyObject *module)
{
	PyObject *str = PyInstanceMethod_New(PyCFunction_New(&error_str_def, NULL));
	PyObject *dict = str ? Py_BuildValue("{s:O,s:s,s:O,s:()}", "__str__", str, "__doc__", error_doc,
					      "code", Py_None, "params") : NULL;
	Py_XDECREF(str);
	error_base = dict ? PyErr_NewException("xvm.Error", NULL, dict) : NULL;
	Py_XDECREF(dict);
	by_code = PyDict_New();
	if (!error_base || !by_code || PyModule_AddObjectRef(module, "Error", error_base) < 0)
		return -1;
	const char *code;
	for (int i = 1; (code = xvm_error_code_name(i)); i++) {
		if (add_class(module, code, i < XVM_ERR__MAX ? descriptions[i] : "a libxvm error") < 0)
			return -1;
	}
	PyObject *modname = PyModule_GetNameObject(module);
	PyObject *fn = modname ? PyCFunction_NewEx(&error_for_def, NULL, modname) : NULL;
	Py_XDECREF(modname);
	if (module_add(module, "error_for", fn) < 0)
		return -1;
	return module_add(module, "errors", PyDictProxy_New(by_code));
}
