/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/async.h"
#include "core/error_internal.h"
#include "core/util.h"
#include "lifecycle/reconcile.h"
#include "objects/object_methods.h"
#include "objects/registry.h"

static const struct method *const tables[] = { vm_methods, storage_methods, token_methods, task_methods,
						     event_methods, ova_methods, vtpm_methods,
						     network_methods };

static const struct method *find_method(const char *name)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct method *m = tables[t]; m->name; m++)
			if (strcmp(m->name, name) == 0)
				return m;
	return NULL;
}

int methods_count_mismatch(const char *name, unsigned expected, size_t got)
{
	char e[16], g[16];
	snprintf(e, sizeof(e), "%u", expected);
	snprintf(g, sizeof(g), "%zu", got);
	return ERR3(XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, name, e, g,
		    "%s takes %s argument%s, not %s", name, e, expected == 1 ? "" : "s", g);
}

int methods_dispatch(struct engine *e, const char *name, struct json_object *args,
		     struct json_object **result)
{
	if (args && !json_object_is_type(args, json_type_array))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "args", "the arguments of %s must be a JSON array", name);
	size_t nargs = args ? json_object_array_length(args) : 0;
	struct json_object *empty = NULL;
	if (!args)
		args = empty = json_object_new_array();
	int r;
	const struct method *m = find_method(name);
	if (strncmp(name, "Async.", 6) == 0) {
		r = async_start(e, name + 6, args, result);
	} else if (m) {
		r = nargs == m->nargs ? m->fn(e, args, result) : methods_count_mismatch(name, m->nargs, nargs);
	} else {
		const char *dot = strchr(name, '.');
		char cls[64];
		const struct class_def *c = NULL;
		if (dot && (size_t)(dot - name) < sizeof(cls)) {
			memcpy(cls, name, (size_t)(dot - name));
			cls[dot - name] = 0;
			c = class_def_lookup(cls);
		}
		r = c ? object_method_dispatch(e, c, dot + 1, args, result) : -XVM_ERR_MESSAGE_METHOD_UNKNOWN;
		if (r == -XVM_ERR_MESSAGE_METHOD_UNKNOWN && !xvm_last_error())
			r = ERR1(XVM_ERR_MESSAGE_METHOD_UNKNOWN, name, "there is no method %s", name);
	}
	json_object_put(empty);
	return r;
}

int methods_call(struct engine *e, const char *name, struct json_object *args, struct json_object **result)
{
	int r = engine_sync_domains(e);
	if (r < 0)
		return r;
	struct json_object *out = NULL;
	if ((r = methods_dispatch(e, name, args, &out)) < 0)
		return r;
	if (result)
		*result = out;
	else
		json_object_put(out);
	return 0;
}

struct json_object *methods_list(void)
{
	struct json_object *all = json_object_new_array();
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct method *m = tables[t]; m->name; m++)
			json_object_array_add(all, json_object_new_string(m->name));
	for (size_t i = 0; i < class_def_count(); i++)
		object_methods_list(class_def_at(i), all);
	return all;
}

int arg_string(struct json_object *args, size_t i, const char *what, const char **ret)
{
	struct json_object *v = json_object_array_get_idx(args, i);
	if (!json_object_is_type(v, json_type_string))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, what, "%s must be a string", what);
	*ret = json_object_get_string(v);
	return 0;
}

int arg_bool(struct json_object *args, size_t i, const char *what, bool *ret)
{
	struct json_object *v = json_object_array_get_idx(args, i);
	if (json_object_is_type(v, json_type_boolean)) {
		*ret = json_object_get_boolean(v);
		return 0;
	}
	/* XML-RPC clients and xe pass booleans as text. */
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
		*ret = strcmp(s, "true") == 0;
		return 0;
	}
	return ERR1(XVM_ERR_FIELD_TYPE_ERROR, what, "%s must be a boolean", what);
}

int arg_int64(struct json_object *args, size_t i, const char *what, int64_t *ret)
{
	struct json_object *v = json_object_array_get_idx(args, i);
	if (json_object_is_type(v, json_type_int)) {
		*ret = json_object_get_int64(v);
		return 0;
	}
	/* XML-RPC clients and xe pass 64-bit integers as text. */
	if (json_object_is_type(v, json_type_string) && parse_int64(json_object_get_string(v), ret) == 0)
		return 0;
	return ERR1(XVM_ERR_FIELD_TYPE_ERROR, what, "%s must be an integer", what);
}
