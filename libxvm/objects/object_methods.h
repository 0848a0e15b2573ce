/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The methods every class answers, generated from its field table as xapi
 * does: get_all, get_all_records, get_record, get_by_uuid,
 * get_by_name_label, and per field get_F, set_F (RW fields), add_to_F /
 * remove_from_F (RW maps), add_F / remove_F (RW sets).
 */
#pragma once

#include <json-c/json.h>

#include "objects/class.h"

struct engine;

/* -MESSAGE_METHOD_UNKNOWN (without setting the error) when `op` is none of them. */
int object_method_dispatch(struct engine *e, const struct class_def *c, const char *op,
			   struct json_object *args, struct json_object **result);
/* Appends "Class.op" for each generated method of c. */
void object_methods_list(const struct class_def *c, struct json_object *out);
