/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A record's field, or the type's empty value when it is absent. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

static inline const char *rec_str(struct json_object *rec, const char *field)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, field, &v) ? json_object_get_string(v) : "";
}

static inline int64_t rec_int(struct json_object *rec, const char *field)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, field, &v) ? json_object_get_int64(v) : 0;
}

static inline bool rec_bool(struct json_object *rec, const char *field)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, field, &v) && json_object_get_boolean(v);
}

/* A string field of a caller's record (an argument), else dflt: absent or of another type. */
static inline const char *rec_str_or(struct json_object *rec, const char *field, const char *dflt)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, field, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : dflt;
}
