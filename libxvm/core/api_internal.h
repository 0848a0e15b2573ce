/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the typed public functions (api*.c) share: building a method call. */
#pragma once

#include <json-c/json.h>
#include <xvm/xvm.h>

/* Calls method with args, which it consumes. */
int call_taking(xvm_conn *c, const char *method, struct json_object *args, struct json_object **result);
/* Calls cls.op with the string arguments given (NULL-terminated). */
int call_strings(xvm_conn *c, const char *cls, const char *op, struct json_object **result, ...)
	__attribute__((sentinel));
/* INVALID_VALUE naming `what` when p is NULL. */
int need(const void *p, const char *what);
