/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The method table: name -> handler, JSON arguments in, JSON result out.
 * The local engine dispatches through it; the daemon serves it; the remote
 * client calls it by name. A method added here works everywhere.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct engine;

/* args: the JSON array of arguments, already checked to hold nargs items. */
typedef int (*method_fn)(struct engine *e, struct json_object *args, struct json_object **result);

struct method {
	const char *name;     /* "VM.start" */
	method_fn fn;
	unsigned nargs;
	const char *doc;      /* one line: what it does and its arguments */
};

/* Method tables of the modules (NULL-terminated). */
extern const struct method vm_methods[], storage_methods[], token_methods[], task_methods[], event_methods[];
extern const struct method ova_methods[], vtpm_methods[], network_methods[];

int methods_dispatch(struct engine *e, const char *name, struct json_object *args,
		     struct json_object **result);
/* A call as a connection makes it: first what guests did on their own,
 * then the method. *result is untouched on failure. */
int methods_call(struct engine *e, const char *name, struct json_object *args, struct json_object **result);
/* Every method name, explicit and generated per class, as a JSON array. */
struct json_object *methods_list(void);

/* Sets MESSAGE_PARAMETER_COUNT_MISMATCH [method, expected, got]. */
int methods_count_mismatch(const char *name, unsigned expected, size_t got);

/* Argument accessors: FIELD_TYPE_ERROR naming the method's argument when
 * the type is wrong. */
int arg_string(struct json_object *args, size_t i, const char *what, const char **ret);
int arg_bool(struct json_object *args, size_t i, const char *what, bool *ret);
int arg_int64(struct json_object *args, size_t i, const char *what, int64_t *ret);
