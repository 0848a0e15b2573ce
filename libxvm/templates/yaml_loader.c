/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "templates/yaml_loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/error_internal.h"
#include "core/units.h"
#include "core/util.h"
#include "objects/registry.h"

/* A parsed YAML node as JSON, with the line each mapping key stood on. */
struct parser {
	yaml_parser_t yaml;
	const char *path;
	struct json_object *key_lines; /* top-level key -> line */
};

static int fail(struct parser *p, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, size_t line, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	char where[32];
	snprintf(where, sizeof(where), "%zu", line);
	int r = ERR2(XVM_ERR_TEMPLATE_INVALID, p->path, where, "%s:%zu: %s", p->path, line,
		     msg ? msg : "invalid template");
	free(msg);
	return r;
}

static int next_event(struct parser *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->yaml, ev))
		return fail(p, p->yaml.problem_mark.line + 1, "YAML syntax error: %s",
			    p->yaml.problem ? p->yaml.problem : "unknown");
	return 0;
}

static int parse_node(struct parser *p, yaml_event_t *first, int depth, struct json_object **ret);

static int parse_mapping(struct parser *p, int depth, struct json_object **ret)
{
	struct json_object *obj = json_object_new_object();
	for (;;) {
		yaml_event_t ev;
		int r = next_event(p, &ev);
		if (r < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		size_t line = ev.start_mark.line + 1;
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			r = fail(p, line, "a key must be a plain name");
			goto fail;
		}
		char *key = strdup((const char *)ev.data.scalar.value);
		yaml_event_delete(&ev);
		if (json_object_object_get_ex(obj, key, NULL)) {
			r = fail(p, line, "%s is given twice", key);
			free(key);
			goto fail;
		}
		if (depth == 0)
			json_object_object_add(p->key_lines, key, json_object_new_int64((int64_t)line));
		struct json_object *value;
		if ((r = next_event(p, &ev)) < 0 || (r = parse_node(p, &ev, depth + 1, &value)) < 0) {
			free(key);
			goto fail;
		}
		json_object_object_add(obj, key, value);
		free(key);
		continue;
	fail:
		json_object_put(obj);
		return r;
	}
	*ret = obj;
	return 0;
}

static int parse_sequence(struct parser *p, int depth, struct json_object **ret)
{
	struct json_object *arr = json_object_new_array();
	for (;;) {
		yaml_event_t ev;
		int r = next_event(p, &ev);
		if (r < 0) {
			json_object_put(arr);
			return r;
		}
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		struct json_object *v;
		if ((r = parse_node(p, &ev, depth + 1, &v)) < 0) {
			json_object_put(arr);
			return r;
		}
		json_object_array_add(arr, v);
	}
	*ret = arr;
	return 0;
}

/* Consumes `first` (and the node's events). Scalars stay strings: the
 * field's type decides what they mean. */
static int parse_node(struct parser *p, yaml_event_t *first, int depth, struct json_object **ret)
{
	size_t line = first->start_mark.line + 1;
	yaml_event_type_t type = first->type;
	int r;
	if (depth > 8) {
		yaml_event_delete(first);
		return fail(p, line, "nested too deeply");
	}
	switch (type) {
	case YAML_SCALAR_EVENT:
		*ret = json_object_new_string((const char *)first->data.scalar.value);
		yaml_event_delete(first);
		return 0;
	case YAML_MAPPING_START_EVENT:
		yaml_event_delete(first);
		return parse_mapping(p, depth, ret);
	case YAML_SEQUENCE_START_EVENT:
		yaml_event_delete(first);
		return parse_sequence(p, depth, ret);
	default:
		yaml_event_delete(first);
		r = fail(p, line, "aliases and anchors are not supported");
		return r;
	}
}

static int parse_document(struct parser *p, struct json_object **ret)
{
	yaml_event_t ev;
	int r;
	/* STREAM_START, DOCUMENT_START, then the root node */
	for (int i = 0; i < 2; i++) {
		if ((r = next_event(p, &ev)) < 0)
			return r;
		bool ok = ev.type == (i == 0 ? YAML_STREAM_START_EVENT : YAML_DOCUMENT_START_EVENT);
		yaml_event_delete(&ev);
		if (!ok)
			return fail(p, 1, "the file is empty; a template is a mapping of VM fields");
	}
	if ((r = next_event(p, &ev)) < 0)
		return r;
	if (ev.type != YAML_MAPPING_START_EVENT) {
		size_t line = ev.start_mark.line + 1;
		yaml_event_delete(&ev);
		return fail(p, line, "a template is a mapping of VM fields");
	}
	yaml_event_delete(&ev);
	return parse_mapping(p, 0, ret);
}

static size_t line_of(struct parser *p, const char *key)
{
	struct json_object *l;
	return json_object_object_get_ex(p->key_lines, key, &l) ? (size_t)json_object_get_int64(l) : 1;
}

/* Converts the raw YAML values to typed field values. */
static int type_fields(struct parser *p, struct json_object *raw, struct json_object **ret)
{
	const struct class_def *vm = &class_vm;
	struct json_object *rec = json_object_new_object();
	int r = 0;
	json_object_object_foreach(raw, key, value) {
		size_t line = line_of(p, key);
		const struct field_def *f = class_def_field(vm, key);
		if (!f) {
			r = fail(p, line, "unknown VM field '%s'", key);
			break;
		}
		if (!field_is_stored(f) || (f->info.qualifier == XVM_QUAL_RO_RUNTIME && strcmp(key, "uuid") != 0)) {
			r = fail(p, line, "field '%s' is kept by xvm and cannot be set in a template", key);
			break;
		}
		struct json_object *v = value, *converted = NULL;
		if (f->info.type == XVM_TYPE_INT && json_object_is_type(value, json_type_string)) {
			uint64_t bytes;
			if (parse_size(json_object_get_string(value), &bytes) == 0)
				v = converted = json_object_new_int64((int64_t)bytes);
		}
		struct json_object *typed;
		r = field_coerce(vm, f, v, &typed);
		json_object_put(converted);
		if (r < 0) {
			r = fail(p, line, "field '%s' takes a value of type %s, not %s", key, xvm_type_name(&f->info),
				 json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN));
			break;
		}
		json_object_object_add(rec, key, typed);
	}
	if (r == 0) {
		static const char *const required[] = { "uuid", "name_label" };
		for (size_t i = 0; i < 2 && r == 0; i++)
			if (!json_object_object_get_ex(rec, required[i], NULL))
				r = fail(p, 1, "the required field '%s' is missing", required[i]);
	}
	struct json_object *u;
	if (r == 0 && json_object_object_get_ex(rec, "uuid", &u) && !uuid_valid(json_object_get_string(u)))
		r = fail(p, line_of(p, "uuid"), "'%s' is not a UUID", json_object_get_string(u));
	if (r < 0) {
		json_object_put(rec);
		return r;
	}
	*ret = rec;
	return 0;
}

int template_load_file(const char *path, struct json_object **record)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ERR1(XVM_ERR_TEMPLATE_INVALID, path, "cannot read the template %s: %s", path,
			    strerror(errno));
	struct parser p = { .path = path, .key_lines = json_object_new_object() };
	yaml_parser_initialize(&p.yaml);
	yaml_parser_set_input_file(&p.yaml, f);
	struct json_object *raw = NULL;
	int r = parse_document(&p, &raw);
	if (r == 0)
		r = type_fields(&p, raw, record);
	json_object_put(raw);
	json_object_put(p.key_lines);
	yaml_parser_delete(&p.yaml);
	fclose(f);
	return r;
}
