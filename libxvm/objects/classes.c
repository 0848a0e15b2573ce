/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The class registry and the type rules every field follows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error_internal.h"
#include "core/util.h"
#include "objects/class.h"
#include "objects/registry.h"

static const struct class_def *const classes[] = {
	&class_pool, &class_host, &class_vm, &class_vm_metrics, &class_sr, &class_pbd,
	&class_vdi, &class_vbd, &class_network, &class_vif, &class_task, &class_console, &class_vtpm,
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/* nfields is derived once from each table's terminator. */
static size_t count_fields(const struct class_def *c)
{
	size_t n = 0;
	while (c->fields[n].info.name)
		n++;
	return n;
}

static pthread_once_t counted = PTHREAD_ONCE_INIT;
static size_t field_counts[NCLASSES];
static struct xvm_class_info public_infos[NCLASSES];

static void count_all(void)
{
	for (size_t i = 0; i < NCLASSES; i++) {
		field_counts[i] = count_fields(classes[i]);
		public_infos[i] = classes[i]->info;
		public_infos[i].nfields = field_counts[i];
	}
}

size_t xvm_class_count(void)
{
	return NCLASSES;
}

static size_t index_of_public(const struct xvm_class_info *info)
{
	for (size_t i = 0; i < NCLASSES; i++)
		if (info == &public_infos[i])
			return i;
	return NCLASSES;
}

const struct xvm_class_info *xvm_class_at(size_t i)
{
	pthread_once(&counted, count_all);
	return i < NCLASSES ? &public_infos[i] : NULL;
}

const struct xvm_class_info *xvm_class_lookup(const char *name)
{
	pthread_once(&counted, count_all);
	for (size_t i = 0; name && i < NCLASSES; i++)
		if (strcmp(classes[i]->info.name, name) == 0)
			return &public_infos[i];
	return NULL;
}

const struct xvm_field_info *xvm_class_field_at(const struct xvm_class_info *cls, size_t i)
{
	size_t ci = index_of_public(cls);
	if (ci == NCLASSES || i >= field_counts[ci])
		return NULL;
	return &classes[ci]->fields[i].info;
}

const struct xvm_field_info *xvm_class_field(const struct xvm_class_info *cls, const char *name)
{
	size_t ci = index_of_public(cls);
	if (ci == NCLASSES)
		return NULL;
	const struct field_def *f = class_def_field(classes[ci], name);
	return f ? &f->info : NULL;
}

const struct class_def *class_def_lookup(const char *name)
{
	pthread_once(&counted, count_all);
	for (size_t i = 0; name && i < NCLASSES; i++)
		if (strcmp(classes[i]->info.name, name) == 0)
			return classes[i];
	return NULL;
}

size_t class_def_count(void)
{
	return NCLASSES;
}

const struct class_def *class_def_at(size_t i)
{
	pthread_once(&counted, count_all);
	return i < NCLASSES ? classes[i] : NULL;
}

const struct field_def *class_def_field(const struct class_def *c, const char *name)
{
	for (const struct field_def *f = c->fields; name && f->info.name; f++)
		if (strcmp(f->info.name, name) == 0)
			return f;
	return NULL;
}

bool field_is_stored(const struct field_def *f)
{
	return !(f->flags & (FIELD_REVERSE | FIELD_COMPUTED));
}

struct json_object *field_default(const struct field_def *f)
{
	if (f->default_json)
		return json_tokener_parse(f->default_json);
	switch (f->info.type) {
	case XVM_TYPE_STRING: return json_object_new_string("");
	case XVM_TYPE_INT: return json_object_new_int64(0);
	case XVM_TYPE_FLOAT: return json_object_new_double(0.0);
	case XVM_TYPE_BOOL: return json_object_new_boolean(0);
	case XVM_TYPE_DATETIME: return json_object_new_string(XVM_DATETIME_ZERO);
	case XVM_TYPE_ENUM: return json_object_new_string(f->info.enum_values[0]);
	case XVM_TYPE_REF: return json_object_new_string(XVM_NULL_REF);
	case XVM_TYPE_SET: return json_object_new_array();
	case XVM_TYPE_MAP: return json_object_new_object();
	}
	return NULL;
}

static const char *enum_canonical(const char *const *values, const char *s)
{
	for (; values && *values; values++)
		if (strcasecmp(*values, s) == 0)
			return *values;
	return NULL;
}

/* Coerces a scalar of type t; NULL when it does not fit. */
static struct json_object *coerce_scalar(enum xvm_type t, const char *const *enum_values,
					 struct json_object *v)
{
	enum json_type jt = json_object_get_type(v);
	const char *s = jt == json_type_string ? json_object_get_string(v) : NULL;
	switch (t) {
	case XVM_TYPE_STRING:
		return s ? json_object_new_string(s) : NULL;
	case XVM_TYPE_INT: {
		if (jt == json_type_int)
			return json_object_new_int64(json_object_get_int64(v));
		int64_t n;
		/* XML-RPC and xe send 64-bit integers as strings. */
		return s && parse_int64(s, &n) == 0 ? json_object_new_int64(n) : NULL;
	}
	case XVM_TYPE_FLOAT: {
		if (jt == json_type_double || jt == json_type_int)
			return json_object_new_double(json_object_get_double(v));
		double d;
		return s && parse_double(s, &d) == 0 ? json_object_new_double(d) : NULL;
	}
	case XVM_TYPE_BOOL:
		if (jt == json_type_boolean)
			return json_object_new_boolean(json_object_get_boolean(v));
		if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0))
			return json_object_new_boolean(strcasecmp(s, "true") == 0);
		return NULL;
	case XVM_TYPE_DATETIME:
		return s && datetime_valid(s) ? json_object_new_string(s) : NULL;
	case XVM_TYPE_ENUM: {
		const char *c = s ? enum_canonical(enum_values, s) : NULL;
		return c ? json_object_new_string(c) : NULL;
	}
	case XVM_TYPE_REF:
		return s && ref_valid(s) ? json_object_new_string(s) : NULL;
	default:
		return NULL;
	}
}

int field_coerce(const struct class_def *c, const struct field_def *f, struct json_object *value,
		 struct json_object **out)
{
	const struct xvm_field_info *fi = &f->info;
	struct json_object *r = NULL;
	if (fi->type == XVM_TYPE_SET && json_object_is_type(value, json_type_array)) {
		r = json_object_new_array();
		size_t n = json_object_array_length(value);
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = coerce_scalar(fi->elem_type, fi->enum_values,
							      json_object_array_get_idx(value, i));
			if (!e) {
				json_object_put(r);
				r = NULL;
				break;
			}
			json_object_array_add(r, e);
		}
	} else if (fi->type == XVM_TYPE_MAP && json_object_is_type(value, json_type_object)) {
		r = json_object_new_object();
		json_object_object_foreach(value, k, v) {
			if (!json_object_is_type(v, json_type_string)) {
				json_object_put(r);
				r = NULL;
				break;
			}
			json_object_object_add(r, k, json_object_new_string(json_object_get_string(v)));
		}
	} else if (fi->type != XVM_TYPE_SET && fi->type != XVM_TYPE_MAP) {
		r = coerce_scalar(fi->type, fi->enum_values, value);
	}
	if (!r) {
		const char *shown = json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);
		if (fi->type == XVM_TYPE_ENUM)
			return ERR1(XVM_ERR_FIELD_TYPE_ERROR, fi->name,
				    "%s.%s takes one of its enumeration's values, not %s", c->info.name,
				    fi->name, shown);
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, fi->name, "%s.%s is of type %s, and %s is not",
			    c->info.name, fi->name, xvm_type_name(fi), shown);
	}
	*out = r;
	return 0;
}

const char *xvm_type_name(const struct xvm_field_info *f)
{
	static const char *const names[] = {
		[XVM_TYPE_STRING] = "string", [XVM_TYPE_INT] = "int", [XVM_TYPE_FLOAT] = "float",
		[XVM_TYPE_BOOL] = "bool", [XVM_TYPE_DATETIME] = "datetime", [XVM_TYPE_ENUM] = "enum",
		[XVM_TYPE_REF] = "ref", [XVM_TYPE_SET] = "set", [XVM_TYPE_MAP] = "map (string -> string)",
	};
	return names[f->type];
}
