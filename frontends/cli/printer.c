/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formats records and values for the terminal, --minimal and --json. */
#include "printer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

const char *cli_field_marker(const struct xvm_field_info *f)
{
	/* RO_CONSTRUCTOR fields cannot be changed once the object exists: RO to a user. */
	bool rw = f->qualifier == XVM_QUAL_RW;
	switch (f->type) {
	case XVM_TYPE_MAP:
		return rw ? "(MRW)" : "(MRO)";
	case XVM_TYPE_SET:
		return rw ? "(SRW)" : "(SRO)";
	default:
		return rw ? "( RW)" : "( RO)";
	}
}

static void put_scalar(FILE *out, const struct xvm_field_info *f, enum xvm_type t,
		       struct json_object *v, cli_ref_resolver resolve, void *data)
{
	const char *s = json_object_get_string(v);
	switch (t) {
	case XVM_TYPE_REF:
		fputs(resolve ? resolve(data, f->ref_class, s) : s ? s : "", out);
		break;
	case XVM_TYPE_ENUM:
		/* xe shows power states lower-cased; set elements (operations) keep their case. */
		for (; s && *s; s++)
			fputc(f->type == XVM_TYPE_ENUM ? tolower((unsigned char)*s) : *s, out);
		break;
	case XVM_TYPE_BOOL:
		fputs(json_object_get_boolean(v) ? "true" : "false", out);
		break;
	default:
		fputs(s ? s : "", out);
		break;
	}
}

static void put_value(FILE *out, const struct xvm_field_info *f, struct json_object *v,
		      cli_ref_resolver resolve, void *data)
{
	if (f->type == XVM_TYPE_MAP && json_object_is_type(v, json_type_object)) {
		const char *sep = "";
		json_object_object_foreach(v, key, val) {
			fprintf(out, "%s%s: %s", sep, key, json_object_get_string(val));
			sep = "; ";
		}
	} else if (f->type == XVM_TYPE_SET && json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs("; ", out);
			put_scalar(out, f, f->elem_type, json_object_array_get_idx(v, i), resolve, data);
		}
	} else {
		put_scalar(out, f, f->type, v, resolve, data);
	}
}

char *cli_value_text(const struct xvm_field_info *f, struct json_object *v,
		     cli_ref_resolver resolve, void *data)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	put_value(out, f, v, resolve, data);
	fclose(out);
	return buf;
}

struct json_object *cli_value_json(const struct xvm_field_info *f, struct json_object *v,
				   cli_ref_resolver resolve, void *data)
{
	bool refs = f->type == XVM_TYPE_REF || (f->type == XVM_TYPE_SET && f->elem_type == XVM_TYPE_REF);
	if (!refs || !resolve || !v)
		return json_object_get(v);
	if (f->type == XVM_TYPE_REF)
		return json_object_new_string(resolve(data, f->ref_class, json_object_get_string(v)));
	struct json_object *arr = json_object_new_array();
	size_t n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(v, i));
		json_object_array_add(arr, json_object_new_string(resolve(data, f->ref_class, ref)));
	}
	return arr;
}

/* labels[i]: "name ( RW)" for fields[i], computed once for all records. */
static void print_text_record(FILE *out, const struct xvm_field_info *const *fields, size_t nfields,
			      char *const *labels, struct json_object *rec, cli_ref_resolver resolve, void *data)
{
	int width = 0;
	for (size_t i = 0; i < nfields; i++)
		if (json_object_object_get_ex(rec, fields[i]->name, NULL) && (int)strlen(labels[i]) > width)
			width = (int)strlen(labels[i]);
	bool first = true;
	for (size_t i = 0; i < nfields; i++) {
		struct json_object *v;
		if (!json_object_object_get_ex(rec, fields[i]->name, &v))
			continue;
		fprintf(out, first ? "%-*s: " : "%*s: ", width, labels[i]);
		put_value(out, fields[i], v, resolve, data);
		fputc('\n', out);
		first = false;
	}
}

static void print_text(FILE *out, const struct xvm_field_info *const *fields, size_t nfields,
		       struct json_object *const *records, size_t nrecords,
		       cli_ref_resolver resolve, void *data)
{
	char **labels = calloc(nfields ? nfields : 1, sizeof(*labels));
	size_t ok = 0;
	for (; labels && ok < nfields; ok++) {
		char *name = cli_field_name(fields[ok]);
		int r = asprintf(&labels[ok], "%s %s", name, cli_field_marker(fields[ok]));
		free(name);
		if (r < 0)
			break;
	}
	for (size_t r = 0; ok == nfields && r < nrecords; r++) {
		if (r)
			fputc('\n', out);
		print_text_record(out, fields, nfields, labels, records[r], resolve, data);
	}
	for (size_t i = 0; labels && i < ok; i++)
		free(labels[i]);
	free(labels);
}

static void print_minimal(FILE *out, const struct xvm_field_info *const *fields, size_t nfields,
			  struct json_object *const *records, size_t nrecords,
			  cli_ref_resolver resolve, void *data)
{
	for (size_t r = 0; nfields && r < nrecords; r++) {
		struct json_object *v;
		if (r)
			fputc(',', out);
		if (json_object_object_get_ex(records[r], fields[0]->name, &v))
			put_value(out, fields[0], v, resolve, data);
	}
	fputc('\n', out);
}

static void print_json(FILE *out, struct json_object *j)
{
	fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
}

void cli_print_records(FILE *out, enum cli_format fmt, const struct xvm_field_info *const *fields,
		       size_t nfields, struct json_object *const *records, size_t nrecords,
		       cli_ref_resolver resolve, void *data)
{
	if (fmt == CLI_FORMAT_MINIMAL) {
		print_minimal(out, fields, nfields, records, nrecords, resolve, data);
		return;
	}
	if (fmt == CLI_FORMAT_JSON) {
		struct json_object *arr = json_object_new_array();
		for (size_t r = 0; r < nrecords; r++) {
			struct json_object *o = json_object_new_object(), *v;
			for (size_t i = 0; i < nfields; i++) {
				if (!json_object_object_get_ex(records[r], fields[i]->name, &v))
					continue;
				char *name = cli_field_name(fields[i]);
				json_object_object_add(o, name, cli_value_json(fields[i], v, resolve, data));
				free(name);
			}
			json_object_array_add(arr, o);
		}
		print_json(out, arr);
		json_object_put(arr);
		return;
	}
	print_text(out, fields, nfields, records, nrecords, resolve, data);
}

void cli_print_value(FILE *out, enum cli_format fmt, const struct xvm_field_info *f,
		     struct json_object *v, cli_ref_resolver resolve, void *data)
{
	if (fmt == CLI_FORMAT_JSON) {
		struct json_object *j = cli_value_json(f, v, resolve, data);
		print_json(out, j);
		json_object_put(j);
		return;
	}
	put_value(out, f, v, resolve, data);
	fputc('\n', out);
}
