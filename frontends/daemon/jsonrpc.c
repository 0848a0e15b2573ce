/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jsonrpc.h"

#include <stdbool.h>
#include <string.h>

#define MAX_DEPTH 64

static char *finish(struct json_object *resp)
{
	char *out = strdup(json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(resp);
	return out;
}

/* JSON-RPC 2.0's own errors, for bodies that are not a valid request. */
static char *protocol_error(int code, const char *message, const char *detail, struct json_object *id)
{
	struct json_object *resp = json_object_new_object(), *e = json_object_new_object(), *data = json_object_new_array();
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_array_add(data, json_object_new_string(detail));
	json_object_object_add(e, "data", data);
	json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(resp, "error", e);
	json_object_object_add(resp, "id", json_object_get(id));
	return finish(resp);
}

static char *response(bool v2, struct json_object *id, int r, struct json_object *result, struct rpc_error *err)
{
	struct json_object *resp = json_object_new_object();
	if (v2)
		json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
	if (r == 0) {
		json_object_object_add(resp, "result", result);
		if (!v2)
			json_object_object_add(resp, "error", NULL);
	} else if (v2) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "code", json_object_new_int(1));
		json_object_object_add(e, "message", json_object_new_string(err->code));
		json_object_object_add(e, "data", json_object_get(err->params));
		json_object_object_add(e, "description", json_object_new_string(err->message));
		json_object_object_add(resp, "error", e);
	} else {
		struct json_object *e = json_object_new_array();
		json_object_array_add(e, json_object_new_string(err->code));
		for (size_t i = 0; i < json_object_array_length(err->params); i++)
			json_object_array_add(e, json_object_get(json_object_array_get_idx(err->params, i)));
		json_object_object_add(resp, "result", NULL);
		json_object_object_add(resp, "error", e);
	}
	json_object_object_add(resp, "id", json_object_get(id));
	return finish(resp);
}

static char *run(struct rpc *rpc, const struct rpc_peer *peer, struct json_object *req)
{
	struct json_object *id = NULL, *version, *method, *params = NULL;
	if (!json_object_is_type(req, json_type_object))
		return protocol_error(-32600, "Invalid Request", "the request must be a JSON object", NULL);
	json_object_object_get_ex(req, "id", &id);
	bool v2 = json_object_object_get_ex(req, "jsonrpc", &version);
	if (v2 && !(json_object_is_type(version, json_type_string) && strcmp(json_object_get_string(version), "2.0") == 0))
		return protocol_error(-32600, "Invalid Request", "jsonrpc must be \"2.0\"", id);
	if (!json_object_object_get_ex(req, "method", &method) || !json_object_is_type(method, json_type_string))
		return protocol_error(-32600, "Invalid Request", "method must be a string", id);
	if (json_object_object_get_ex(req, "params", &params) && !json_object_is_type(params, json_type_array))
		return protocol_error(-32600, "Invalid Request", "params must be an array (XenAPI's positional parameters)", id);
	struct json_object *empty = params ? NULL : json_object_new_array();
	struct json_object *result = NULL;
	struct rpc_error err = { 0 };
	int r = rpc_call(rpc, peer, json_object_get_string(method), params ? params : empty, &result, &err);
	char *out = response(v2, id, r, result, &err);
	rpc_error_clear(&err);
	json_object_put(empty);
	return out;
}

char *jsonrpc_handle(struct rpc *rpc, const struct rpc_peer *peer, const char *body, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *req = len ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	enum json_tokener_error jerr = len ? json_tokener_get_error(tok) : json_tokener_continue;
	/* Everything must be one value: trailing bytes (but blanks) are as bad as missing ones. */
	size_t end = jerr == json_tokener_success ? json_tokener_get_parse_end(tok) : 0;
	while (end < len && strchr(" \t\r\n", body[end]) && body[end])
		end++;
	bool whole = jerr == json_tokener_success && end == len;
	char *out;
	if (!whole) {
		out = protocol_error(-32700, "Parse error",
				     jerr == json_tokener_success ? "bytes after the request" : json_tokener_error_desc(jerr),
				     NULL);
	} else {
		out = run(rpc, peer, req);
	}
	json_object_put(req);
	json_tokener_free(tok);
	return out;
}
