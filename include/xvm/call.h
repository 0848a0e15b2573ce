/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The method table: every operation of the API is a named method taking
 * JSON arguments and returning a JSON result, exactly as XenAPI's JSON-RPC
 * does (without the session argument). The typed functions in the other
 * headers are thin wrappers over xvm_call, so a method added once works
 * in-process, over the daemon, from the CLI and from Python.
 *
 * Field accessors are the XenAPI ones: Class.get_FIELD, Class.set_FIELD,
 * Class.add_to_FIELD / remove_from_FIELD (maps), Class.add_FIELD /
 * remove_FIELD (sets), plus Class.get_all, get_all_records, get_record,
 * get_by_uuid and get_by_name_label on every class.
 */
#pragma once

#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xvm_conn;

/*
 * Calls `method` (e.g. "VM.start") with `args`, a JSON array of the
 * positional arguments (borrowed; NULL for none). On success stores the
 * result in *result (owned by the caller: json_object_put it; may be NULL
 * for void methods) and returns 0; on failure returns -code and leaves
 * *result untouched.
 */
int xvm_call(struct xvm_conn *conn, const char *method, struct json_object *args,
	     struct json_object **result);

/* The names of all methods the connection serves, as a JSON array (owned). */
int xvm_list_methods(struct xvm_conn *conn, struct json_object **ret);

#ifdef __cplusplus
}
#endif
