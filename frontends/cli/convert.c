/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text to typed JSON values, by field metadata. */
#include "convert.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"

/* XenAPI names are short; anything longer matches no field. */
#define NAME_MAX_LEN 128

const struct xvm_field_info *cli_field_lookup(const struct xvm_class_info *cls, const char *cli_name)
{
	char api[NAME_MAX_LEN];
	size_t n = strlen(cli_name);
	if (!cls || n >= sizeof(api))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		api[i] = cli_name[i] == '-' ? '_' : cli_name[i];
	const struct xvm_field_info *f = xvm_class_field(cls, api);
	/* xe's name for a reference to the object's SR, VM, host, VDI: sr-uuid, vm-uuid, ... */
	static const char suffix[] = "_uuid";
	size_t base = n - (sizeof(suffix) - 1);
	if (f || n < sizeof(suffix) || strcmp(api + base, suffix) != 0)
		return f;
	for (size_t i = 0; i < cls->nfields; i++) {
		const struct xvm_field_info *r = xvm_class_field_at(cls, i);
		if (r->type == XVM_TYPE_REF && strlen(r->name) == base && strncasecmp(r->name, api, base) == 0 &&
		    strcasecmp(r->name, r->ref_class) == 0)
			return r;
	}
	return NULL;
}

char *cli_field_name(const struct xvm_field_info *f)
{
	char *s = strdup(f->name);
	for (char *p = s; p && *p; p++)
		if (*p == '_')
			*p = '-';
	return s;
}

bool cli_field_is_memory(const struct xvm_field_info *f)
{
	return f->type == XVM_TYPE_INT && strncmp(f->name, "memory", 6) == 0;
}


static int parse_int(const char *text, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || isspace((unsigned char)text[0]))
		return -1;
	*out = v;
	return 0;
}

int cli_parse_memory(const char *text, int64_t *bytes)
{
	static const struct { const char *suffix; int shift; } units[] = {
		{ "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
	};
	size_t n = strlen(text);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t sl = strlen(units[i].suffix);
		if (n <= sl || strcmp(text + n - sl, units[i].suffix) != 0)
			continue;
		char num[32];
		if (n - sl >= sizeof(num))
			return -1;
		memcpy(num, text, n - sl);
		num[n - sl] = '\0';
		int64_t v;
		if (parse_int(num, &v) < 0 || v < 0 || v > (INT64_MAX >> units[i].shift))
			return -1;
		*bytes = v << units[i].shift;
		return 0;
	}
	return parse_int(text, bytes);
}

int cli_parse_bool(const char *text, bool *value)
{
	if (strcasecmp(text, "true") == 0)
		*value = true;
	else if (strcasecmp(text, "false") == 0)
		*value = false;
	else
		return -1;
	return 0;
}

/* XenAPI's datetime: 20261125T17:24:18Z (the trailing Z optional). */
static bool is_datetime(const char *s)
{
	static const char shape[] = "DDDDDDDDTDD:DD:DD";
	size_t i;
	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'D' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	}
	return s[i] == '\0' || (s[i] == 'Z' && s[i + 1] == '\0');
}

static int convert_enum(const char *const *values, const char *text, struct json_object **out,
			const char *field, char *err, size_t errlen)
{
	for (size_t i = 0; values && values[i]; i++)
		if (strcasecmp(values[i], text) == 0) {
			*out = json_object_new_string(values[i]);
			return 0;
		}
	char list[512] = "";
	for (size_t i = 0; values && values[i]; i++) {
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", values[i]);
	}
	return cli_errf(err, errlen, "'%s' is not a valid value for %s (expected one of: %s)", text, field, list);
}

/* A scalar of type t (also a set's element type). */
static int convert_scalar(const struct xvm_field_info *f, enum xvm_type t, const char *text,
			  struct json_object **out, const char *name, char *err, size_t errlen)
{
	switch (t) {
	case XVM_TYPE_STRING:
	case XVM_TYPE_REF:
		*out = json_object_new_string(text);
		return 0;
	case XVM_TYPE_INT: {
		int64_t v;
		if (cli_field_is_memory(f)) {
			if (cli_parse_memory(text, &v) < 0)
				return cli_errf(err, errlen, "'%s' is not a size for %s (bytes, or a number with KiB, MiB, GiB or TiB)",
					    text, name);
		} else if (parse_int(text, &v) < 0) {
			return cli_errf(err, errlen, "'%s' is not an integer (%s)", text, name);
		}
		*out = json_object_new_int64(v);
		return 0;
	}
	case XVM_TYPE_FLOAT: {
		char *end;
		errno = 0;
		double v = strtod(text, &end);
		if (errno || end == text || *end || !isfinite(v))
			return cli_errf(err, errlen, "'%s' is not a number (%s)", text, name);
		*out = json_object_new_double(v);
		return 0;
	}
	case XVM_TYPE_BOOL: {
		bool v;
		if (cli_parse_bool(text, &v) < 0)
			return cli_errf(err, errlen, "'%s' is not true or false (%s)", text, name);
		*out = json_object_new_boolean(v);
		return 0;
	}
	case XVM_TYPE_DATETIME:
		if (!is_datetime(text))
			return cli_errf(err, errlen, "'%s' is not a date and time like 20260131T12:00:00Z (%s)", text, name);
		*out = json_object_new_string(text);
		return 0;
	case XVM_TYPE_ENUM:
		return convert_enum(f->enum_values, text, out, name, err, errlen);
	case XVM_TYPE_SET:
	case XVM_TYPE_MAP:
		break;
	}
	return cli_errf(err, errlen, "%s cannot hold a nested collection", name);
}

static int convert_set(const struct xvm_field_info *f, const char *text, struct json_object **out,
		       const char *name, char *err, size_t errlen)
{
	struct json_object *arr = json_object_new_array();
	char *copy = strdup(text), *save = NULL;
	if (!arr || !copy) {
		json_object_put(arr);
		free(copy);
		return cli_errf(err, errlen, "out of memory");
	}
	/* An empty text is the empty set. */
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		struct json_object *v;
		if (convert_scalar(f, f->elem_type, e, &v, name, err, errlen) < 0) {
			json_object_put(arr);
			free(copy);
			return -1;
		}
		json_object_array_add(arr, v);
	}
	free(copy);
	*out = arr;
	return 0;
}

int cli_convert_value(const struct xvm_field_info *f, const char *text, struct json_object **out,
		      char *err, size_t errlen)
{
	char *name = cli_field_name(f);
	int r;
	if (f->type == XVM_TYPE_SET)
		r = convert_set(f, text, out, name, err, errlen);
	else if (f->type == XVM_TYPE_MAP)
		r = cli_errf(err, errlen, "%s is a map: give one key at a time as %s:KEY=VALUE", name, name);
	else
		r = convert_scalar(f, f->type, text, out, name, err, errlen);
	free(name);
	return r;
}
