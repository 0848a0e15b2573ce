/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The commands every class shares, driven by its metadata: CLASS-list and
 * CLASS-param-list/get/set/add/remove/clear.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "convert.h"
#include "refcache.h"
#include "select.h"

int cli_print_uuid_of(struct cli_ctx *ctx, const char *cls, const char *ref)
{
	struct json_object *uuid;
	if (xvm_object_get_field(ctx->conn, cls, ref, "uuid", &uuid) < 0)
		return cli_api_error();
	if (ctx->fmt == CLI_FORMAT_JSON)
		puts(json_object_to_json_string(uuid));
	else
		puts(json_object_get_string(uuid));
	json_object_put(uuid);
	return CLI_EXIT_OK;
}

/* --- list ------------------------------------------------------------------ */

/* The fields params=a,b (or all, or the command's defaults) names, in order. */
static int list_fields(struct cli_ctx *ctx, const struct xvm_field_info ***out, size_t *n)
{
	const struct cli_param *p = cli_args_get(ctx->args, "params");
	const char *spec = p ? p->value : ctx->cmd->default_params;
	size_t nall = ctx->cls->nfields;
	const struct xvm_field_info **fields = calloc(nall ? nall : 1, sizeof(*fields));
	*n = 0;
	if (!fields)
		return cli_fail("out of memory");
	if (strcmp(spec, "all") == 0) {
		for (size_t i = 0; i < nall; i++)
			fields[(*n)++] = xvm_class_field_at(ctx->cls, i);
		*out = fields;
		return CLI_EXIT_OK;
	}
	char *copy = strdup(spec), *save = NULL;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct xvm_field_info *f = cli_field_lookup(ctx->cls, name);
		if (!f) {
			int r = cli_usage(ctx, "%s has no field '%s' (params=)", ctx->cls->name, name);
			free(copy);
			free(fields);
			return r;
		}
		if (*n < nall)
			fields[(*n)++] = f;
	}
	free(copy);
	if (*n == 0) {
		free(fields);
		return cli_usage(ctx, "params= names no field");
	}
	*out = fields;
	return CLI_EXIT_OK;
}

int cli_check_list(struct cli_ctx *ctx)
{
	const struct xvm_field_info **fields;
	size_t n;
	int r = list_fields(ctx, &fields, &n);
	if (r == CLI_EXIT_OK)
		free(fields);
	return r;
}

int cli_run_list(struct cli_ctx *ctx)
{
	return cli_list_where(ctx, NULL, NULL);
}

int cli_list_where(struct cli_ctx *ctx, bool (*keep)(const char *ref, void *data), void *data)
{
	const struct xvm_field_info **fields;
	size_t nfields;
	int r = list_fields(ctx, &fields, &nfields);
	if (r)
		return r;
	struct json_object *all;
	const struct cli_param *p = cli_args_get(ctx->args, "params");
	bool every_field = p && strcmp(p->value, "all") == 0;
	if ((r = cli_fetch_records(ctx, every_field ? NULL : fields, nfields, &all))) {
		free(fields);
		return r;
	}
	size_t n = 0, cap = (size_t)json_object_object_length(all);
	struct json_object **records = calloc(cap ? cap : 1, sizeof(*records));
	if (!records) {
		json_object_put(all);
		free(fields);
		return cli_fail("out of memory");
	}
	json_object_object_foreach(all, ref, rec) {
		if ((!keep || keep(ref, data)) && cli_filters_match(ctx, rec))
			records[n++] = rec;
	}
	cli_print_records(stdout, ctx->fmt, fields, nfields, records, n, cli_refcache_uuid, ctx->refs);
	free(records);
	json_object_put(all);
	free(fields);
	return CLI_EXIT_OK;
}

/* --- param-list ------------------------------------------------------------ */

/* The figures of the VM's current run, kept in its VM_metrics, that xe shows
 * as the VM's own (read-only) parameters. */
static const char *const vm_metrics_shown[] = { "start_time", "VCPUs_number", "memory_actual" };
#define NSHOWN (sizeof(vm_metrics_shown) / sizeof(vm_metrics_shown[0]))

/* One of those, if `name` (a command-line name) is one for class cls. */
static const struct xvm_field_info *vm_metrics_field(const struct xvm_class_info *cls, const char *name)
{
	if (strcmp(cls->name, "VM") != 0)
		return NULL;
	const struct xvm_class_info *mc = xvm_class_lookup("VM_metrics");
	const struct xvm_field_info *f = cli_field_lookup(mc, name);
	for (size_t i = 0; f && i < NSHOWN; i++)
		if (strcmp(f->name, vm_metrics_shown[i]) == 0)
			return f;
	return NULL;
}

/* Appends those figures to a VM's record. Returns how many fields it appended. */
static size_t add_vm_metrics(struct cli_ctx *ctx, struct json_object *rec, const struct xvm_field_info **fields)
{
	const char *const *shown = vm_metrics_shown;
	struct json_object *mref, *metrics;
	if (!json_object_object_get_ex(rec, "metrics", &mref) ||
	    xvm_object_get_record(ctx->conn, "VM_metrics", json_object_get_string(mref), &metrics) < 0)
		return 0; /* a template has none */
	const struct xvm_class_info *mc = xvm_class_lookup("VM_metrics");
	size_t n = 0;
	for (size_t i = 0; i < NSHOWN; i++) {
		struct json_object *v;
		if (json_object_object_get_ex(metrics, shown[i], &v)) {
			json_object_object_add(rec, shown[i], json_object_get(v));
			fields[n++] = xvm_class_field(mc, shown[i]);
		}
	}
	json_object_put(metrics);
	return n;
}

int cli_run_param_list(struct cli_ctx *ctx)
{
	char *ref;
	int r = cli_lookup_uuid_param(ctx, &ref);
	if (r)
		return r;
	struct json_object *rec;
	if (xvm_object_get_record(ctx->conn, ctx->cls->name, ref, &rec) < 0) {
		free(ref);
		return cli_api_error();
	}
	size_t n = ctx->cls->nfields;
	const struct xvm_field_info **fields = calloc(n + 3, sizeof(*fields));
	for (size_t i = 0; fields && i < n; i++)
		fields[i] = xvm_class_field_at(ctx->cls, i);
	if (fields && strcmp(ctx->cls->name, "VM") == 0)
		n += add_vm_metrics(ctx, rec, fields + n);
	if (fields)
		cli_print_records(stdout, ctx->fmt, fields, n, &rec, 1, cli_refcache_uuid, ctx->refs);
	free(fields);
	json_object_put(rec);
	free(ref);
	return fields ? CLI_EXIT_OK : cli_fail("out of memory");
}

/* --- param-name= checks shared by get/add/remove/clear ----------------------- */

enum need { NEED_ANY = 0, NEED_RW = 1, NEED_COLLECTION = 2 };

/* The field param-name= names, checked against what the command needs. */
static int named_field(struct cli_ctx *ctx, unsigned need, const struct xvm_field_info **out)
{
	const char *name = cli_args_get(ctx->args, "param-name")->value;
	const struct xvm_field_info *f = cli_field_lookup(ctx->cls, name);
	*out = NULL;
	if (!f)
		f = vm_metrics_field(ctx->cls, name);
	if (!f)
		return cli_usage(ctx, "%s has no field '%s'", ctx->cls->name, name);
	if ((need & NEED_RW) && f->qualifier != XVM_QUAL_RW)
		return cli_usage(ctx, "'%s' is read-only", name);
	if ((need & NEED_COLLECTION) && f->type != XVM_TYPE_MAP && f->type != XVM_TYPE_SET)
		return cli_usage(ctx, "'%s' is neither a map nor a set", name);
	*out = f;
	return CLI_EXIT_OK;
}

/* An element of a set of enums as the metadata spells it, or NULL. */
static const char *enum_element(const struct xvm_field_info *f, const char *text)
{
	for (size_t i = 0; f->enum_values && f->enum_values[i]; i++)
		if (strcasecmp(f->enum_values[i], text) == 0)
			return f->enum_values[i];
	return NULL;
}

/* Static check of param-key= as an element of a set of enums. */
static int check_element(struct cli_ctx *ctx, const struct xvm_field_info *f)
{
	const struct cli_param *key = cli_args_get(ctx->args, "param-key");
	if (!key || f->type != XVM_TYPE_SET || f->elem_type != XVM_TYPE_ENUM || enum_element(f, key->value))
		return CLI_EXIT_OK;
	return cli_usage(ctx, "'%s' is not a valid element of %s", key->value,
			 cli_args_get(ctx->args, "param-name")->value);
}

/* The API's form of a map key or set element: enums spelled as declared, references resolved. */
static int set_element(struct cli_ctx *ctx, const struct xvm_field_info *f, const char *text, char **out)
{
	if (f->type == XVM_TYPE_SET && f->elem_type == XVM_TYPE_REF)
		return cli_lookup(ctx, f->ref_class, text, out);
	if (f->type == XVM_TYPE_SET && f->elem_type == XVM_TYPE_ENUM)
		text = enum_element(f, text);
	*out = strdup(text);
	return CLI_EXIT_OK;
}

/* --- param-get ------------------------------------------------------------- */

int cli_check_param_get(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	int r = named_field(ctx, NEED_ANY, &f);
	if (r)
		return r;
	if (cli_args_get(ctx->args, "param-key") && f->type != XVM_TYPE_MAP)
		return cli_usage(ctx, "param-key= needs a map parameter; '%s' is not one",
				 cli_args_get(ctx->args, "param-name")->value);
	return CLI_EXIT_OK;
}

int cli_run_param_get(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	char *ref;
	int r = named_field(ctx, NEED_ANY, &f);
	if (r || (r = cli_lookup_uuid_param(ctx, &ref)))
		return r;
	struct json_object *v, *mref = NULL;
	bool of_metrics = vm_metrics_field(ctx->cls, cli_args_get(ctx->args, "param-name")->value) == f;
	if ((of_metrics && xvm_object_get_field(ctx->conn, "VM", ref, "metrics", &mref) < 0) ||
	    xvm_object_get_field(ctx->conn, of_metrics ? "VM_metrics" : ctx->cls->name,
				 of_metrics ? json_object_get_string(mref) : ref, f->name, &v) < 0) {
		json_object_put(mref);
		free(ref);
		return cli_api_error();
	}
	json_object_put(mref);
	const struct cli_param *key = cli_args_get(ctx->args, "param-key");
	if (key) {
		struct json_object *kv;
		if (!json_object_object_get_ex(v, key->value, &kv)) {
			r = cli_fail("key '%s' is not in %s", key->value, cli_args_get(ctx->args, "param-name")->value);
		} else if (ctx->fmt == CLI_FORMAT_JSON) {
			puts(json_object_to_json_string_ext(kv, JSON_C_TO_STRING_NOSLASHESCAPE));
		} else {
			puts(json_object_get_string(kv));
		}
	} else {
		cli_print_value(stdout, ctx->fmt, f, v, cli_refcache_uuid, ctx->refs);
	}
	json_object_put(v);
	free(ref);
	return r;
}

/* --- param-set ------------------------------------------------------------- */

/* The value of one assignment; REF texts are resolved later, with the connection. */
static int assignment(struct cli_ctx *ctx, const struct cli_param *p, const struct xvm_field_info **field,
		      struct json_object **value)
{
	char err[512];
	const struct xvm_field_info *f = cli_field_lookup(ctx->cls, p->name);
	*value = NULL;
	if (!f)
		return cli_usage(ctx, "unknown parameter '%s'", p->name);
	if (f->qualifier != XVM_QUAL_RW)
		return cli_usage(ctx, "'%s' is read-only", p->name);
	if (p->key && f->type != XVM_TYPE_MAP)
		return cli_usage(ctx, "'%s' is not a map: '%s:%s' is not valid", p->name, p->name, p->key);
	*field = f;
	if (p->key)
		return CLI_EXIT_OK;
	if (cli_convert_value(f, p->value, value, err, sizeof(err)) < 0)
		return cli_usage(ctx, "%s", err);
	return CLI_EXIT_OK;
}

int cli_check_param_set(struct cli_ctx *ctx)
{
	const struct cli_args *a = ctx->args;
	size_t n = 0;
	for (size_t i = 0; i < a->nparams; i++) {
		const struct cli_param *p = &a->params[i];
		if (!p->key && cli_command_has_param(ctx->cmd, p->name))
			continue;
		const struct xvm_field_info *f;
		struct json_object *v;
		int r = assignment(ctx, p, &f, &v);
		json_object_put(v);
		if (r)
			return r;
		n++;
	}
	return n ? CLI_EXIT_OK : cli_usage(ctx, "nothing to set: give FIELD=VALUE or MAP:KEY=VALUE");
}

/* A reference, or each reference of a set, from UUID-or-name to OpaqueRef. */
static int resolve_refs(struct cli_ctx *ctx, const struct xvm_field_info *f, struct json_object **v)
{
	if (f->type == XVM_TYPE_REF) {
		const char *text = json_object_get_string(*v);
		char *ref;
		if (!*text) {   /* an empty value clears the reference */
			json_object_put(*v);
			*v = json_object_new_string("OpaqueRef:NULL");
			return CLI_EXIT_OK;
		}
		int r = cli_lookup(ctx, f->ref_class, text, &ref);
		if (r)
			return r;
		json_object_put(*v);
		*v = json_object_new_string(ref);
		free(ref);
		return CLI_EXIT_OK;
	}
	if (f->type != XVM_TYPE_SET || f->elem_type != XVM_TYPE_REF)
		return CLI_EXIT_OK;
	size_t n = json_object_array_length(*v);
	for (size_t i = 0; i < n; i++) {
		char *ref;
		int r = cli_lookup(ctx, f->ref_class, json_object_get_string(json_object_array_get_idx(*v, i)), &ref);
		if (r)
			return r;
		json_object_array_put_idx(*v, i, json_object_new_string(ref));
		free(ref);
	}
	return CLI_EXIT_OK;
}

static int apply_assignment(struct cli_ctx *ctx, const char *ref, const struct cli_param *p)
{
	const struct xvm_field_info *f;
	struct json_object *v;
	int r = assignment(ctx, p, &f, &v);
	if (r)
		return r;
	if (p->key) {
		/* xe semantics: MAP:KEY=VALUE replaces the key if it is there. */
		if (xvm_object_remove_from_field(ctx->conn, ctx->cls->name, ref, f->name, p->key) < 0 ||
		    xvm_object_add_to_field(ctx->conn, ctx->cls->name, ref, f->name, p->key, p->value) < 0)
			return cli_api_error();
		return CLI_EXIT_OK;
	}
	if ((r = resolve_refs(ctx, f, &v)) == CLI_EXIT_OK &&
	    xvm_object_set_field(ctx->conn, ctx->cls->name, ref, f->name, v) < 0)
		r = cli_api_error();
	json_object_put(v);
	return r;
}

int cli_run_param_set(struct cli_ctx *ctx)
{
	char *ref;
	int r = cli_lookup_uuid_param(ctx, &ref);
	if (r)
		return r;
	/* In command-line order, as xe does: the user orders dependent fields (memory limits). */
	for (size_t i = 0; r == CLI_EXIT_OK && i < ctx->args->nparams; i++) {
		const struct cli_param *p = &ctx->args->params[i];
		if (p->key || !cli_command_has_param(ctx->cmd, p->name))
			r = apply_assignment(ctx, ref, p);
	}
	free(ref);
	return r;
}

/* --- param-add / param-remove ---------------------------------------------- */

/* The key=value pairs of param-add (anything but the command's own parameters). */
static size_t count_pairs(const struct cli_ctx *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < ctx->args->nparams; i++)
		if (ctx->args->params[i].key || !cli_command_has_param(ctx->cmd, ctx->args->params[i].name))
			n++;
	return n;
}

int cli_check_param_add(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	int r = named_field(ctx, NEED_RW | NEED_COLLECTION, &f);
	if (r)
		return r;
	for (size_t i = 0; i < ctx->args->nparams; i++)
		if (ctx->args->params[i].key)
			return cli_usage(ctx, "give map entries as KEY=VALUE, not '%s:%s=...'",
					 ctx->args->params[i].name, ctx->args->params[i].key);
	bool key = cli_args_get(ctx->args, "param-key");
	if (f->type == XVM_TYPE_MAP && (key || count_pairs(ctx) == 0))
		return cli_usage(ctx, "add to a map with KEY=VALUE pairs (not param-key=)");
	if (f->type == XVM_TYPE_SET && (!key || count_pairs(ctx) > 0))
		return cli_usage(ctx, "add to a set with param-key=ELEMENT");
	return check_element(ctx, f);
}

static int add_one(struct cli_ctx *ctx, const char *ref, const struct xvm_field_info *f,
		   const char *key, const char *value)
{
	char *elem;
	int r = set_element(ctx, f, key, &elem);
	if (r)
		return r;
	if (xvm_object_add_to_field(ctx->conn, ctx->cls->name, ref, f->name, elem, value) < 0)
		r = cli_api_error();
	free(elem);
	return r;
}

int cli_run_param_add(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	char *ref;
	int r = named_field(ctx, NEED_RW | NEED_COLLECTION, &f);
	if (r || (r = cli_lookup_uuid_param(ctx, &ref)))
		return r;
	if (f->type == XVM_TYPE_SET) {
		r = add_one(ctx, ref, f, cli_args_get(ctx->args, "param-key")->value, NULL);
	} else {
		for (size_t i = 0; r == CLI_EXIT_OK && i < ctx->args->nparams; i++) {
			const struct cli_param *p = &ctx->args->params[i];
			if (!cli_command_has_param(ctx->cmd, p->name))
				r = add_one(ctx, ref, f, p->name, p->value);
		}
	}
	free(ref);
	return r;
}

int cli_check_param_remove(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	int r = named_field(ctx, NEED_RW | NEED_COLLECTION, &f);
	return r ? r : check_element(ctx, f);
}

int cli_run_param_remove(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	char *ref, *elem;
	int r = named_field(ctx, NEED_RW | NEED_COLLECTION, &f);
	if (r || (r = cli_lookup_uuid_param(ctx, &ref)))
		return r;
	if ((r = set_element(ctx, f, cli_args_get(ctx->args, "param-key")->value, &elem)) == CLI_EXIT_OK) {
		if (xvm_object_remove_from_field(ctx->conn, ctx->cls->name, ref, f->name, elem) < 0)
			r = cli_api_error();
		free(elem);
	}
	free(ref);
	return r;
}

/* --- param-clear ----------------------------------------------------------- */

/* The empty value of a field, or NULL if its type has none. */
static struct json_object *empty_value(const struct xvm_field_info *f)
{
	switch (f->type) {
	case XVM_TYPE_MAP:
		return json_object_new_object();
	case XVM_TYPE_SET:
		return json_object_new_array();
	case XVM_TYPE_STRING:
		return json_object_new_string("");
	case XVM_TYPE_REF:
		return json_object_new_string("OpaqueRef:NULL");
	default:
		return NULL;
	}
}

int cli_check_param_clear(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	int r = named_field(ctx, NEED_RW, &f);
	if (r)
		return r;
	struct json_object *v = empty_value(f);
	if (!v)
		return cli_usage(ctx, "'%s' has no empty value to clear to; set it with param-set",
				 cli_args_get(ctx->args, "param-name")->value);
	json_object_put(v);
	return CLI_EXIT_OK;
}

int cli_run_param_clear(struct cli_ctx *ctx)
{
	const struct xvm_field_info *f;
	char *ref;
	int r = named_field(ctx, NEED_RW, &f);
	if (r || (r = cli_lookup_uuid_param(ctx, &ref)))
		return r;
	struct json_object *v = empty_value(f);
	if (xvm_object_set_field(ctx->conn, ctx->cls->name, ref, f->name, v) < 0)
		r = cli_api_error();
	json_object_put(v);
	free(ref);
	return r;
}
