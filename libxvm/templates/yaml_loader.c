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
#include "lifecycle/vtpm.h"
#include "objects/registry.h"
#include "templates/provision.h"

/* A parsed YAML node as JSON, with the line each mapping key stood on. */
struct parser {
	yaml_parser_t yaml;
	const char *path;
	struct json_object *key_lines; /* key path (disks/0/size) -> line */
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

static int parse_node(struct parser *p, yaml_event_t *first, int depth, const char *path, struct json_object **ret);

/* The path of a nested key or item: "disks/0/size". */
static char *sub_path(const char *path, const char *key)
{
	char *out;
	if (asprintf(&out, "%s%s%s", path, *path ? "/" : "", key) < 0)
		return NULL;
	return out;
}

static void note_line(struct parser *p, const char *path, size_t line)
{
	json_object_object_add(p->key_lines, path, json_object_new_int64((int64_t)line));
}

static int parse_mapping(struct parser *p, int depth, const char *path, struct json_object **ret)
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
		char *kpath = sub_path(path, key);
		if (!kpath) {
			free(key);
			r = error_oom();
			goto fail;
		}
		note_line(p, kpath, line);
		struct json_object *value;
		if ((r = next_event(p, &ev)) < 0 || (r = parse_node(p, &ev, depth + 1, kpath, &value)) < 0) {
			free(kpath);
			free(key);
			goto fail;
		}
		free(kpath);
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

static int parse_sequence(struct parser *p, int depth, const char *path, struct json_object **ret)
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
		char idx[24], *ipath;
		snprintf(idx, sizeof(idx), "%zu", json_object_array_length(arr));
		if (!(ipath = sub_path(path, idx))) {
			yaml_event_delete(&ev);
			json_object_put(arr);
			return error_oom();
		}
		note_line(p, ipath, ev.start_mark.line + 1);
		r = parse_node(p, &ev, depth + 1, ipath, &v);
		free(ipath);
		if (r < 0) {
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
static int parse_node(struct parser *p, yaml_event_t *first, int depth, const char *path, struct json_object **ret)
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
		return parse_mapping(p, depth, path, ret);
	case YAML_SEQUENCE_START_EVENT:
		yaml_event_delete(first);
		return parse_sequence(p, depth, path, ret);
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
	return parse_mapping(p, 0, "", ret);
}

static size_t line_of(struct parser *p, const char *key)
{
	struct json_object *l;
	return json_object_object_get_ex(p->key_lines, key, &l) ? (size_t)json_object_get_int64(l) : 1;
}


static const char *scalar(struct json_object *v)
{
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int bool_value(struct parser *p, const char *path, struct json_object *v, bool *out)
{
	const char *s = scalar(v);
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
		*out = strcmp(s, "true") == 0;
		return 0;
	}
	return fail(p, line_of(p, path), "%s takes true or false, not %s", path,
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static int size_value(struct parser *p, const char *path, struct json_object *v, uint64_t *out)
{
	const char *s = scalar(v);
	if (s && parse_size(s, out) == 0 && *out > 0)
		return 0;
	return fail(p, line_of(p, path), "%s takes a size above 0 (8GiB, 512MiB or bytes), not %s", path,
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static int count_value(struct parser *p, const char *path, struct json_object *v, int64_t max, int64_t *out)
{
	const char *s = scalar(v);
	if (s && parse_int64(s, out) == 0 && *out >= 0 && *out <= max)
		return 0;
	return fail(p, line_of(p, path), "%s takes a whole number 0..%lld, not %s", path, (long long)max,
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

/* A mapping whose keys are all among `known`. */
static int check_keys(struct parser *p, const char *path, struct json_object *v, const char *const *known)
{
	if (!json_object_is_type(v, json_type_object))
		return fail(p, line_of(p, path), "%s is a mapping, not %s", path,
			    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	json_object_object_foreach(v, key, value) {
		(void)value;
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok) {
			char kpath[256];
			snprintf(kpath, sizeof(kpath), "%s/%s", path, key);
			return fail(p, line_of(p, kpath), "%s: unknown key '%s'", path, key);
		}
	}
	return 0;
}

/* A disk made from an image: image: FILE, format: raw|qcow2|vhd|vmdk (raw when absent). */
static int disk_image(struct parser *p, const char *path, struct json_object *d, struct provision_item *it)
{
	char fpath[48];
	struct json_object *f;
	snprintf(fpath, sizeof(fpath), "%s/image", path);
	if (!json_object_object_get_ex(d, "image", &f))
		return 0;
	const char *s = scalar(f);
	if (!provision_image_name_ok(s))
		return fail(p, line_of(p, fpath),
			    "%s takes a file name under the template image directory (no leading / or ..), not %s",
			    fpath, json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN));
	snprintf(it->image, sizeof(it->image), "%s", s);
	snprintf(it->format, sizeof(it->format), "raw");
	snprintf(fpath, sizeof(fpath), "%s/format", path);
	if (json_object_object_get_ex(d, "format", &f)) {
		s = scalar(f);
		if (s && provision_image_format_ok(s)) {
			snprintf(it->format, sizeof(it->format), "%s", s);
			return 0;
		}
		return fail(p, line_of(p, fpath), "%s takes raw, qcow2, vhd or vmdk, not %s", fpath,
			    json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN));
	}
	return 0;
}

/* disks: [{size, bootable, sr: default|UUID, name, image, format}], positions 0, 1, 2, 4, ... (3 is the CD's).
 * A disk made from an image is as big as the image unless size asks for more. */
static int disks_spec(struct parser *p, struct json_object *v, char **xml)
{
	if (!json_object_is_type(v, json_type_array))
		return fail(p, line_of(p, "disks"), "disks is a list of disks ({size, bootable, sr, name, image, format}), not %s",
			    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	static const char *const known[] = { "size", "bootable", "sr", "name", "image", "format", NULL };
	int device = 0, r = 0;
	for (size_t i = 0; r == 0 && i < json_object_array_length(v); i++, device++) {
		struct json_object *d = json_object_array_get_idx(v, i), *f;
		char path[32], fpath[48];
		snprintf(path, sizeof(path), "disks/%zu", i);
		if ((r = check_keys(p, path, d, known)) < 0)
			break;
		struct provision_item it = { .device = device == 3 ? ++device : device };
		if ((r = disk_image(p, path, d, &it)) < 0)
			break;
		snprintf(fpath, sizeof(fpath), "%s/size", path);
		if (!json_object_object_get_ex(d, "size", &f)) {
			if (!*it.image) {
				r = fail(p, line_of(p, path), "%s: the required key 'size' is missing (a disk has a size, an image or both)", path);
				break;
			}
		} else if ((r = size_value(p, fpath, f, &it.size)) < 0) {
			break;
		}
		snprintf(fpath, sizeof(fpath), "%s/bootable", path);
		if (json_object_object_get_ex(d, "bootable", &f) && (r = bool_value(p, fpath, f, &it.bootable)) < 0)
			break;
		snprintf(fpath, sizeof(fpath), "%s/sr", path);
		if (json_object_object_get_ex(d, "sr", &f)) {
			const char *s = scalar(f);
			if (!s || (strcmp(s, "default") != 0 && !uuid_valid(s))) {
				r = fail(p, line_of(p, fpath), "%s takes default or an SR's UUID, not %s", fpath,
					 json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN));
				break;
			}
			if (strcmp(s, "default") != 0)
				snprintf(it.sr, sizeof(it.sr), "%s", s);
		}
		snprintf(fpath, sizeof(fpath), "%s/name", path);
		if (json_object_object_get_ex(d, "name", &f)) {
			const char *s = scalar(f);
			if (!s || strlen(s) >= sizeof(it.name)) {
				r = fail(p, line_of(p, fpath), "%s takes a name of under %zu characters, not %s", fpath,
					 sizeof(it.name), json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN));
				break;
			}
			snprintf(it.name, sizeof(it.name), "%s", s);
		}
		r = provision_xml_add(xml, &it);
	}
	return r;
}

/* recommendations: {memory_min, memory_max, vcpus_min, vcpus_max} as XenServer's XML. */
static int recommendations_spec(struct parser *p, struct json_object *v, char **xml)
{
	static const struct {
		const char *key, *field, *bound;
		bool size;
	} keys[] = {
		{ "memory_min", "memory-static-min", "min", true },
		{ "memory_max", "memory-static-max", "max", true },
		{ "vcpus_min", "vcpus-min", "min", false },
		{ "vcpus_max", "vcpus-max", "max", false },
	};
	static const char *const known[] = { "memory_min", "memory_max", "vcpus_min", "vcpus_max", NULL };
	int r = check_keys(p, "recommendations", v, known);
	if (r < 0)
		return r;
	char text[512] = "<restrictions>";
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct json_object *f;
		if (!json_object_object_get_ex(v, keys[i].key, &f))
			continue;
		char path[48];
		snprintf(path, sizeof(path), "recommendations/%s", keys[i].key);
		uint64_t n;
		int64_t c;
		if (keys[i].size)
			r = size_value(p, path, f, &n);
		else if ((r = count_value(p, path, f, 4096, &c)) == 0 && (n = (uint64_t)c) == 0)
			r = fail(p, line_of(p, path), "%s takes at least 1", path);
		if (r < 0)
			return r;
		size_t len = strlen(text);
		snprintf(text + len, sizeof(text) - len, "<restriction field=\"%s\" %s=\"%llu\"/>", keys[i].field,
			 keys[i].bound, (unsigned long long)n);
	}
	strcat(text, "</restrictions>");
	*xml = strdup(text);
	return *xml ? 0 : error_oom();
}

/* nics: a count, or a list of {network: NAME}: other_config:nics and nic-N-network. */
static int nics_spec(struct parser *p, struct json_object *v, struct json_object *oc)
{
	int64_t n = 0;
	int r = 0;
	if (json_object_is_type(v, json_type_array)) {
		static const char *const known[] = { "network", NULL };
		n = (int64_t)json_object_array_length(v);
		for (size_t i = 0; r == 0 && i < (size_t)n; i++) {
			struct json_object *nic = json_object_array_get_idx(v, i), *net;
			char path[32], key[40];
			snprintf(path, sizeof(path), "nics/%zu", i);
			if ((r = check_keys(p, path, nic, known)) < 0 || !json_object_object_get_ex(nic, "network", &net))
				continue;
			if (!scalar(net)) {
				r = fail(p, line_of(p, path), "%s/network takes a network's name", path);
				break;
			}
			snprintf(key, sizeof(key), "nic-%zu-network", i);
			json_object_object_add(oc, key, json_object_new_string(scalar(net)));
		}
		if (r == 0 && n > 7)
			r = fail(p, line_of(p, "nics"), "nics: a VM has at most 7 network interfaces");
	} else {
		r = count_value(p, "nics", v, 7, &n);
	}
	if (r < 0)
		return r;
	char count[24];
	snprintf(count, sizeof(count), "%lld", (long long)n);
	json_object_object_add(oc, "nics", json_object_new_string(count));
	return 0;
}

/* The keys that are no VM field: disks, cd, nics and vtpm become
 * other_config entries; a recommendations mapping becomes XenServer's XML.
 * They are taken out of raw. */
static int provision_fields(struct parser *p, struct json_object *raw, struct json_object *oc)
{
	struct json_object *v;
	char *xml = NULL;
	int r = 0;
	if (json_object_object_get_ex(raw, "disks", &v))
		r = disks_spec(p, v, &xml);
	bool cd = false;
	if (r == 0 && json_object_object_get_ex(raw, "cd", &v) && (r = bool_value(p, "cd", v, &cd)) == 0 && cd) {
		struct provision_item it = { .cd = true, .device = 3 };
		r = provision_xml_add(&xml, &it);
	}
	if (r == 0 && xml && (r = provision_xml_end(&xml)) == 0)
		json_object_object_add(oc, "disks", json_object_new_string(xml));
	free(xml);
	if (r == 0 && json_object_object_get_ex(raw, "nics", &v))
		r = nics_spec(p, v, oc);
	bool vtpm = false;
	/* vm-install gives the new VM a vTPM of its own (lifecycle/vtpm.h). */
	if (r == 0 && json_object_object_get_ex(raw, "vtpm", &v) && (r = bool_value(p, "vtpm", v, &vtpm)) == 0 && vtpm)
		json_object_object_add(oc, VTPM_TEMPLATE_KEY, json_object_new_string("true"));
	if (r == 0 && json_object_object_get_ex(raw, "recommendations", &v) && json_object_is_type(v, json_type_object)) {
		char *rx = NULL;
		if ((r = recommendations_spec(p, v, &rx)) == 0)
			json_object_object_add(raw, "recommendations", json_object_new_string(rx));
		free(rx);
	}
	json_object_object_del(raw, "disks");
	json_object_object_del(raw, "cd");
	json_object_object_del(raw, "nics");
	json_object_object_del(raw, "vtpm");
	return r;
}

/* Converts the raw YAML values to typed field values. */
static int type_fields(struct parser *p, struct json_object *raw, struct json_object **ret)
{
	const struct class_def *vm = &class_vm;
	struct json_object *rec = json_object_new_object(), *oc = json_object_new_object();
	int r = provision_fields(p, raw, oc);
	json_object_object_foreach(raw, key, value) {
		if (r < 0)
			break;
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
	/* The provision entries join other_config; given there as well, they clash. */
	struct json_object *have;
	if (r == 0 && json_object_object_length(oc) > 0) {
		if (!json_object_object_get_ex(rec, "other_config", &have)) {
			have = json_object_new_object();
			json_object_object_add(rec, "other_config", have);
		}
		json_object_object_foreach(oc, k, v) {
			if (json_object_object_get_ex(have, k, NULL)) {
				r = fail(p, line_of(p, "other_config"), "other_config:%s is also given by the %s key", k,
					 strncmp(k, "nic", 3) == 0			? "nics"
					 : strcmp(k, VTPM_TEMPLATE_KEY) == 0 ? "vtpm"
									       : "disks/cd");
				break;
			}
			json_object_object_add(have, k, json_object_get(v));
		}
	}
	json_object_put(oc);
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
