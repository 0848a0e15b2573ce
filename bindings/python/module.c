/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `xvm` module: connect(), and the pieces put together at import. */
#include "xvmpy.h"

int module_add(PyObject *module, const char *name, PyObject *o)
{
	if (!o)
		return -1;
	int r = PyModule_AddObjectRef(module, name, o);
	Py_DECREF(o);
	return r;
}

/*
 * __all__: every public name but those that would shadow a builtin in
 * `from xvm import *` (NOT_IMPLEMENTED's class is xvm.NotImplemented).
 */
static int add_all(PyObject *module)
{
	PyObject *builtins = PyEval_GetBuiltins();
	PyObject *names = PyList_New(0);
	PyObject *key, *value;
	Py_ssize_t pos = 0;
	while (names && PyDict_Next(PyModule_GetDict(module), &pos, &key, &value)) {
		if (PyUnicode_READ_CHAR(key, 0) == '_' || PyDict_Contains(builtins, key))
			continue;
		if (PyList_Append(names, key) < 0)
			Py_CLEAR(names);
	}
	if (names && PyList_Sort(names) < 0)
		Py_CLEAR(names);
	return module_add(module, "__all__", names);
}

PyDoc_STRVAR(connect_doc,
"connect(uri=None, user=None, password=None)\n--\n\n"
"Opens a connection: 'sim:///PATH' (the simulated hypervisor, state in\n"
"PATH), 'local:///PATH' (the real one), or None for $XVM_URI, else\n"
"local:///var/lib/xvm; or a daemon: 'xvm://HOST[:PORT]' (HTTPS),\n"
"'xvm+tcp://HOST[:PORT]' (HTTP), 'xvm+unix:///PATH', logging in as `user`\n"
"(None: root) with `password`, a password or an API token. Returns an\n"
"xvm.Connection; raises xvm.UriInvalid, xvm.StoreInvalid,\n"
"xvm.HypervisorError, xvm.ConnectionFailed, xvm.SessionAuthenticationFailed,\n"
"xvm.InvalidValue (credentials for a local URI), ...");

static PyObject *connect(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"uri", "user", "password", NULL};
	const char *uri = NULL, *user = NULL, *password = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|zzz:connect", kwlist, &uri, &user, &password))
		return NULL;
	return connection_open(uri, user, password);
}

static PyMethodDef module_methods[] = {
	{"connect", (PyCFunction)(void (*)(void))connect, METH_VARARGS | METH_KEYWORDS, connect_doc},
	{NULL},
};

PyDoc_STRVAR(module_doc,
"xvm: XenServer-style virtual machine management, over libxvm.\n\n"
"    with xvm.connect('sim:///tmp/demo') as conn:\n"
"        vm = conn.install('sim test', 'web1')\n"
"        vm.start()\n"
"        print(vm.name_label, vm.power_state, vm.VCPUs_max)\n"
"        vm.clean_shutdown()\n"
"        vm.uninstall()\n\n"
"One class per XenAPI class (VM, host, SR, VDI, ...) with XenAPI's field\n"
"names as attributes; one exception class per XenAPI error code, all\n"
"deriving from xvm.Error. Every call goes to libxvm without the GIL, so\n"
"threads run calls in parallel.");

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "xvm",
	.m_doc = module_doc,
	.m_size = -1,
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit_xvm(void);

PyMODINIT_FUNC PyInit_xvm(void)
{
	PyObject *m = PyModule_Create(&module_def);
	if (!m || PyModule_AddStringConstant(m, "__version__", xvm_version()) < 0 || convert_init() < 0 ||
	    errors_init(m) < 0 || objects_init(m) < 0 || record_init(m) < 0 || connection_init(m) < 0 || collection_init(m) < 0 ||
	    add_all(m) < 0) {
		Py_XDECREF(m);
		return NULL;
	}
	return m;
}
