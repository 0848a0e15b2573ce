/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filters and selectors over one get_all_records call. */
#include "select.h"

#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "refcache.h"

static int add_filter(struct cli_ctx *ctx, const struct xvm_field_info *f, const char *key,
		      const char *value)
{
	char err[512];
	char *text = NULL;
	if (key) {
		text = strdup(value);
	} else {
		struct json_object *v;
		if (cli_convert_value(f, value, &v, err, sizeof(err)) < 0)
			return cli_usage(ctx, "%s", err);
		/* Compared in printed form, so enums match in any case and refs by UUID. */
		text = cli_value_text(f, v, NULL, NULL);
		json_object_put(v);
	}
	struct cli_filter *n = realloc(ctx->filters, (ctx->nfilters + 1) * sizeof(*n));
	if (!n || !text) {
		free(text);
		if (n)
			ctx->filters = n;
		return cli_usage(ctx, "out of memory");
	}
	ctx->filters = n;
	ctx->filters[ctx->nfilters++] = (struct cli_filter){ .field = f, .key = key, .text = text };
	return CLI_EXIT_OK;
}

int cli_filters_compile(struct cli_ctx *ctx)
{
	const struct cli_args *a = ctx->args;
	for (size_t i = 0; i < a->nparams; i++) {
		const struct cli_param *p = &a->params[i];
		if (!p->key && cli_command_has_param(ctx->cmd, p->name))
			continue;
		const struct xvm_field_info *f = cli_field_lookup(ctx->cls, p->name);
		if (!f)
			return cli_usage(ctx, "unknown parameter '%s'", p->name);
		if (p->key && f->type != XVM_TYPE_MAP)
			return cli_usage(ctx, "'%s' is not a map: '%s:%s' is not valid", p->name, p->name, p->key);
		if (!p->key && f->type == XVM_TYPE_MAP)
			return cli_usage(ctx, "filter on a map one key at a time: %s:KEY=VALUE", p->name);
		int r = add_filter(ctx, f, p->key, p->value);
		if (r)
			return r;
	}
	/* The command's own filters, "field=value,...": each unless the user filters on that field. */
	for (const char *def = ctx->cmd->default_filter; def && *def;) {
		size_t len = strcspn(def, ",");
		const char *eq = memchr(def, '=', len);
		char name[64], value[64];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - def), def);
		snprintf(value, sizeof(value), "%.*s", (int)(def + len - eq - 1), eq + 1);
		def += len + (def[len] == ',');
		const struct xvm_field_info *f = cli_field_lookup(ctx->cls, name);
		if (!f)
			return cli_usage(ctx, "no field %s in class %s", name, ctx->cls->name);
		bool given = false;
		for (size_t i = 0; i < ctx->nfilters; i++)
			given |= ctx->filters[i].field == f;
		int r = given ? 0 : add_filter(ctx, f, NULL, value);
		if (r)
			return r;
	}
	return CLI_EXIT_OK;
}

void cli_filters_clear(struct cli_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nfilters; i++)
		free(ctx->filters[i].text);
	free(ctx->filters);
	ctx->filters = NULL;
	ctx->nfilters = 0;
}

bool cli_filters_match(struct cli_ctx *ctx, struct json_object *record)
{
	for (size_t i = 0; i < ctx->nfilters; i++) {
		const struct cli_filter *flt = &ctx->filters[i];
		struct json_object *v;
		if (!json_object_object_get_ex(record, flt->field->name, &v))
			return false;
		if (flt->key) {
			struct json_object *kv;
			const char *s = json_object_object_get_ex(v, flt->key, &kv) ? json_object_get_string(kv) : NULL;
			if (!s || strcmp(s, flt->text) != 0)
				return false;
			continue;
		}
		char *text = cli_value_text(flt->field, v, cli_refcache_uuid, ctx->refs);
		bool same = text && strcmp(text, flt->text) == 0;
		free(text);
		if (!same)
			return false;
	}
	return true;
}

/* The user's own filters, not counting the command's default one. */
static bool has_user_filters(const struct cli_ctx *ctx)
{
	for (size_t i = 0; i < ctx->args->nparams; i++) {
		const struct cli_param *p = &ctx->args->params[i];
		if (p->key || !cli_command_has_param(ctx->cmd, p->name))
			return true;
	}
	return false;
}

int cli_select_check(struct cli_ctx *ctx)
{
	const char *sel = cli_command_selector(ctx->cmd);
	bool by_name = cli_args_get(ctx->args, sel), by_uuid = cli_args_get(ctx->args, "uuid");
	if (by_name && by_uuid)
		return cli_usage(ctx, "give either %s= or uuid=, not both", sel);
	if ((by_name || by_uuid) && has_user_filters(ctx))
		return cli_usage(ctx, "%s= and uuid= cannot be combined with field filters", sel);
	if (!by_name && !by_uuid && !has_user_filters(ctx) && !ctx->args->opts.multiple)
		return cli_usage(ctx, "say which %s: %s=NAME-or-UUID, uuid=UUID, or field filters with --multiple",
				 ctx->cls->name, sel);
	return CLI_EXIT_OK;
}

int cli_fetch_records(struct cli_ctx *ctx, const struct xvm_field_info *const *fields, size_t nfields,
		      struct json_object **records)
{
	if (!fields)
		return xvm_object_get_all_records(ctx->conn, ctx->cls->name, records) < 0 ? cli_api_error()
											 : CLI_EXIT_OK;
	const char **names = calloc(nfields + ctx->nfilters + 1, sizeof(*names));
	if (!names)
		return cli_fail("out of memory");
	size_t n = 0;
	for (size_t i = 0; i < nfields; i++)
		names[n++] = fields[i]->name;
	for (size_t i = 0; i < ctx->nfilters; i++)
		names[n++] = ctx->filters[i].field->name;
	int r = xvm_object_get_all_records_fields(ctx->conn, ctx->cls->name, names, records);
	free(names);
	return r < 0 ? cli_api_error() : CLI_EXIT_OK;
}

static int too_many(struct cli_ctx *ctx, size_t n)
{
	if (n == 0)
		return cli_fail("no %s matches the selection", ctx->cls->name);
	if (n > 1 && !ctx->args->opts.multiple)
		return cli_fail("%zu %s objects match the selection; add --multiple to act on all of them",
				n, ctx->cls->name);
	return CLI_EXIT_OK;
}

/* Every object passing the filters. */
static int select_filtered(struct cli_ctx *ctx, struct json_object **refs)
{
	struct json_object *records;
	const struct xvm_field_info *uuid = xvm_class_field(ctx->cls, "uuid");
	int fr = cli_fetch_records(ctx, &uuid, 1, &records);
	if (fr)
		return fr;
	struct json_object *out = json_object_new_array();
	json_object_object_foreach(records, ref, rec)
		if (cli_filters_match(ctx, rec))
			json_object_array_add(out, json_object_new_string(ref));
	json_object_put(records);
	int r = too_many(ctx, json_object_array_length(out));
	if (r) {
		json_object_put(out);
		return r;
	}
	*refs = out;
	return CLI_EXIT_OK;
}

/* UUID first, then name_label: every match (several names may be equal). */
static int lookup_all(struct cli_ctx *ctx, const char *cls, const char *text, struct json_object **refs)
{
	char *ref;
	if (xvm_object_get_by_uuid(ctx->conn, cls, text, &ref) == 0) {
		*refs = json_object_new_array();
		json_object_array_add(*refs, json_object_new_string(ref));
		free(ref);
		return CLI_EXIT_OK;
	}
	if (xvm_object_get_by_name_label(ctx->conn, cls, text, refs) < 0)
		return cli_api_error();
	if (json_object_array_length(*refs) == 0) {
		json_object_put(*refs);
		return cli_fail("no %s has the UUID or name-label '%s'", cls, text);
	}
	return CLI_EXIT_OK;
}

int cli_lookup(struct cli_ctx *ctx, const char *cls, const char *text, char **ref)
{
	struct json_object *refs;
	int r = lookup_all(ctx, cls, text, &refs);
	if (r)
		return r;
	size_t n = json_object_array_length(refs);
	if (n > 1)
		r = cli_fail("%zu %s objects are named '%s'; use the UUID", n, cls, text);
	else
		*ref = strdup(json_object_get_string(json_object_array_get_idx(refs, 0)));
	json_object_put(refs);
	return r;
}

int cli_lookup_uuid(struct cli_ctx *ctx, const char *cls, const char *param, char **ref)
{
	const struct cli_param *p = cli_args_get(ctx->args, param);
	if (xvm_object_get_by_uuid(ctx->conn, cls, p->value, ref) < 0)
		return cli_api_error();
	return CLI_EXIT_OK;
}

int cli_lookup_uuid_param(struct cli_ctx *ctx, char **ref)
{
	return cli_lookup_uuid(ctx, ctx->cls->name, "uuid", ref);
}

int cli_select(struct cli_ctx *ctx, struct json_object **refs)
{
	const struct cli_param *by_name = cli_args_get(ctx->args, cli_command_selector(ctx->cmd));
	const struct cli_param *by_uuid = cli_args_get(ctx->args, "uuid");
	if (by_uuid) {
		char *ref;
		int r = cli_lookup_uuid_param(ctx, &ref);
		if (r)
			return r;
		*refs = json_object_new_array();
		json_object_array_add(*refs, json_object_new_string(ref));
		free(ref);
		return CLI_EXIT_OK;
	}
	if (!by_name)
		return select_filtered(ctx, refs);
	int r = lookup_all(ctx, ctx->cls->name, by_name->value, refs);
	if (r == CLI_EXIT_OK && (r = too_many(ctx, json_object_array_length(*refs))))
		json_object_put(*refs);
	return r;
}
