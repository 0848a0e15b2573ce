/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"
#include "objects/registry.h"
#include "store/store.h"

const struct schema_step schema_steps[] = {
	{ 1, "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);", NULL },
};
const size_t schema_nsteps = sizeof(schema_steps) / sizeof(schema_steps[0]);

static int user_version(struct store *s, int *ret)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(store_db(s), "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return store_error(s, "read the schema version");
	int rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_error(s, "read the schema version");
}

int schema_migrate(struct store *s, const struct schema_step *steps, size_t nsteps)
{
	int latest = nsteps ? steps[nsteps - 1].version : 0;
	int version;
	/* The common case, an up-to-date database, takes no write lock. */
	int r = user_version(s, &version);
	if (r < 0 || version == latest)
		return r;
	if ((r = store_begin_write(s)) < 0)
		return r;
	if ((r = user_version(s, &version)) < 0)
		goto fail;
	if (version > latest) {
		char have[16], know[16];
		snprintf(have, sizeof(have), "%d", version);
		snprintf(know, sizeof(know), "%d", latest);
		r = ERR2(XVM_ERR_STORE_VERSION_TOO_NEW, have, know,
			 "the state store has schema version %d; this xvm knows up to %d: use a newer xvm",
			 version, latest);
		goto fail;
	}
	/* All pending steps run in the one transaction: a failure leaves the
	 * database exactly as it was. */
	for (size_t i = 0; i < nsteps; i++) {
		if (steps[i].version <= version)
			continue;
		char *err = NULL;
		if (steps[i].sql && sqlite3_exec(store_db(s), steps[i].sql, NULL, NULL, &err) != SQLITE_OK) {
			r = ERR0(XVM_ERR_STORE_ERROR, "schema migration to version %d failed: %s",
				 steps[i].version, err ? err : "?");
			sqlite3_free(err);
			goto fail;
		}
		if (steps[i].apply && (r = steps[i].apply(s)) < 0)
			goto fail;
		char pragma[48];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", steps[i].version);
		if (sqlite3_exec(store_db(s), pragma, NULL, NULL, NULL) != SQLITE_OK) {
			r = store_error(s, "set the schema version");
			goto fail;
		}
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return r;
}

const char *schema_column_type(int t)
{
	switch (t) {
	case XVM_TYPE_INT:
	case XVM_TYPE_BOOL:
		return "INTEGER";
	case XVM_TYPE_FLOAT:
		return "REAL";
	default:
		return "TEXT";
	}
}

/* A digest of every class's stored fields: when it matches the one
 * recorded, the tables are already right. */
static char *classes_digest(void)
{
	unsigned long long h = 1469598103934665603ull;
	for (size_t i = 0; i < class_def_count(); i++) {
		const struct class_def *c = class_def_at(i);
		for (const char *p = c->info.name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		for (const struct field_def *f = c->fields; f->info.name; f++) {
			if (!field_is_stored(f))
				continue;
			for (const char *p = f->info.name; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ull;
			h = (h ^ (unsigned)f->info.type) * 1099511628211ull;
		}
	}
	char *out;
	return asprintf(&out, "%016llx", h) < 0 ? NULL : out;
}

static int has_column(struct store *s, const char *table, const char *column, bool *ret)
{
	char *sql;
	if (asprintf(&sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = ?", table) < 0)
		return error_oom();
	sqlite3_stmt *st;
	int r = 0;
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
		free(sql);
		return store_error(s, "inspect a table");
	}
	sqlite3_bind_text(st, 1, column, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*ret = rc == SQLITE_ROW;
	else
		r = store_error(s, "inspect a table");
	sqlite3_finalize(st);
	free(sql);
	return r;
}

static int exec_fmt(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int exec_fmt(struct store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *sql;
	int n = vasprintf(&sql, fmt, ap);
	va_end(ap);
	if (n < 0)
		return error_oom();
	char *err = NULL;
	int r = 0;
	if (sqlite3_exec(store_db(s), sql, NULL, NULL, &err) != SQLITE_OK)
		r = ERR0(XVM_ERR_STORE_ERROR, "schema update failed: %s: %s", sql, err ? err : "?");
	sqlite3_free(err);
	free(sql);
	return r;
}

/* A SQL literal of the field's default, for the column definition. */
static char *default_literal(const struct field_def *f)
{
	struct json_object *d = field_default(f);
	char *out = NULL;
	switch (f->info.type) {
	case XVM_TYPE_INT:
		if (asprintf(&out, "%lld", (long long)json_object_get_int64(d)) < 0)
			out = NULL;
		break;
	case XVM_TYPE_BOOL:
		out = strdup(json_object_get_boolean(d) ? "1" : "0");
		break;
	case XVM_TYPE_FLOAT:
		if (asprintf(&out, "%.17g", json_object_get_double(d)) < 0)
			out = NULL;
		break;
	default: {
		const char *text = json_object_is_type(d, json_type_string)
			? json_object_get_string(d)
			: json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
		char *q = sqlite3_mprintf("%Q", text);
		out = q ? strdup(q) : NULL;
		sqlite3_free(q);
	}
	}
	json_object_put(d);
	return out;
}

/* Indexes serve the lookups the engine makes: by uuid and name, and by the
 * references that reverse fields follow (VBD.VM for VM.VBDs). Those are
 * partial, leaving out null references, so that the common object that
 * points nowhere costs no index write. Every other index would only slow
 * each write down. */
enum index_kind { INDEX_NONE, INDEX_FULL, INDEX_UNIQUE, INDEX_NON_NULL };

static enum index_kind field_index(const struct class_def *c, const struct field_def *f)
{
	const char *n = f->info.name;
	if (strcmp(n, "uuid") == 0)
		return INDEX_UNIQUE;
	if (strcmp(n, "name_label") == 0)
		return INDEX_FULL;
	for (size_t i = 0; i < class_def_count(); i++)
		for (const struct field_def *g = class_def_at(i)->fields; g->info.name; g++)
			if ((g->flags & FIELD_REVERSE) && !(g->flags & FIELD_REVERSE_UNINDEXED) &&
			    strcmp(g->reverse_class, c->info.name) == 0 && strcmp(g->reverse_field, n) == 0)
				return INDEX_NON_NULL;
	return INDEX_NONE;
}

static int reconcile_class(struct store *s, const struct class_def *c)
{
	int r = exec_fmt(s, "CREATE TABLE IF NOT EXISTS \"%s\" (ref TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID", c->info.name);
	for (const struct field_def *f = c->fields; r == 0 && f->info.name; f++) {
		if (!field_is_stored(f))
			continue;
		bool present = false;
		if ((r = has_column(s, c->info.name, f->info.name, &present)) < 0 || present)
			continue;
		char *def = default_literal(f);
		if (!def)
			return error_oom();
		r = exec_fmt(s, "ALTER TABLE \"%s\" ADD COLUMN \"%s\" %s NOT NULL DEFAULT %s", c->info.name,
			     f->info.name, schema_column_type(f->info.type), def);
		free(def);
		enum index_kind ix = field_index(c, f);
		if (r == 0 && ix != INDEX_NONE)
			r = exec_fmt(s, "CREATE %s INDEX IF NOT EXISTS \"idx:%s.%s\" ON \"%s\"(\"%s\") %s%s%s",
				     ix == INDEX_UNIQUE ? "UNIQUE" : "", c->info.name, f->info.name, c->info.name,
				     f->info.name, ix == INDEX_NON_NULL ? "WHERE \"" : "",
				     ix == INDEX_NON_NULL ? f->info.name : "",
				     ix == INDEX_NON_NULL ? "\" != 'OpaqueRef:NULL'" : "");
	}
	return r;
}

int schema_reconcile_classes(struct store *s)
{
	char *digest = classes_digest();
	if (!digest)
		return error_oom();
	char *recorded = NULL;
	int r = store_begin_read(s);
	if (r < 0)
		goto out;
	r = store_meta_get(s, "classes_digest", &recorded);
	store_rollback(s);
	bool current = r == 0 && recorded && strcmp(recorded, digest) == 0;
	free(recorded);
	recorded = NULL;
	if (r < 0 || current)
		goto out;
	if ((r = store_begin_write(s)) < 0)
		goto out;
	r = store_meta_get(s, "classes_digest", &recorded);
	if (r == 0 && !(recorded && strcmp(recorded, digest) == 0)) {
		for (size_t i = 0; r == 0 && i < class_def_count(); i++)
			r = reconcile_class(s, class_def_at(i));
		if (r == 0)
			r = store_meta_set(s, "classes_digest", digest);
	}
	free(recorded);
	if (r < 0)
		store_rollback(s);
	else
		r = store_commit(s);
out:
	free(digest);
	return r;
}
