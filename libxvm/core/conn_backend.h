/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What is behind a connection: the embedded engine (local:///, sim:///)
 * or a remote xvmd (xvm://, xvm+tcp://, xvm+unix://). xvm_call and
 * xvm_list_methods go to the backend; every typed function goes through
 * xvm_call, so the public API is the same over both.
 */
#pragma once

#include <json-c/json.h>

struct conn_backend {
	/* As xvm_call: 0 with *result (may be NULL), or -code with the error set. */
	int (*call)(void *impl, const char *method, struct json_object *args, struct json_object **result);
	int (*list_methods)(void *impl, struct json_object **ret);
	void (*interrupt)(void *impl);  /* as xvm_interrupt; NULL: nothing waits */
	void (*close)(void *impl);
};
