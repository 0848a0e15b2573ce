/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "objects/records.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/util.h"
#include "objects/registry.h"
#include "store/changelog.h"
#include "store/sql.h"
#include "store/store.h"

/* Per-class SQL, built once from the field table. */
/* A stored field's default, ready to bind. */
struct column_default {
	int64_t i;
	double d;
	char *text;
};

struct class_sql {
	char *select_all;  /* SELECT ref, <stored> FROM T */
	char *select_one;  /* ... WHERE ref = ? */
	char *insert;      /* INSERT INTO T (ref, <stored>) VALUES (?, ...) */
	const struct field_def **stored;
	struct column_default *defaults; /* parallel to stored */
	size_t nstored;
};

static struct column_default default_of(const struct field_def *f)
{
	struct json_object *d = field_default(f);
	struct column_default out = { 0 };
	switch (f->info.type) {
	case XVM_TYPE_INT: out.i = json_object_get_int64(d); break;
	case XVM_TYPE_BOOL: out.i = json_object_get_boolean(d); break;
	case XVM_TYPE_FLOAT: out.d = json_object_get_double(d); break;
	case XVM_TYPE_SET:
	case XVM_TYPE_MAP: out.text = strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN)); break;
	default: out.text = strdup(json_object_get_string(d));
	}
	json_object_put(d);
	return out;
}

static void bind_default(sqlite3_stmt *st, int idx, const struct field_def *f, const struct column_default *d)
{
	switch (f->info.type) {
	case XVM_TYPE_INT:
	case XVM_TYPE_BOOL: sqlite3_bind_int64(st, idx, d->i); break;
	case XVM_TYPE_FLOAT: sqlite3_bind_double(st, idx, d->d); break;
	default: sqlite3_bind_text(st, idx, d->text, -1, SQLITE_STATIC);
	}
}

static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
static struct class_sql *sqls;

static void build_sql(void)
{
	size_t n = class_def_count();
	sqls = calloc(n, sizeof(*sqls));
	for (size_t i = 0; i < n; i++) {
		const struct class_def *c = class_def_at(i);
		struct class_sql *q = &sqls[i];
		size_t nf = 0;
		for (const struct field_def *f = c->fields; f->info.name; f++)
			nf++;
		q->stored = calloc(nf, sizeof(*q->stored));
		q->defaults = calloc(nf, sizeof(*q->defaults));
		char *cols = NULL, *marks = NULL;
		size_t lc = 0, lm = 0;
		FILE *fc = open_memstream(&cols, &lc), *fm = open_memstream(&marks, &lm);
		for (const struct field_def *f = c->fields; f->info.name; f++) {
			if (!field_is_stored(f))
				continue;
			q->defaults[q->nstored] = default_of(f);
			q->stored[q->nstored++] = f;
			fprintf(fc, ", \"%s\"", f->info.name);
			fputs(", ?", fm);
		}
		fclose(fc);
		fclose(fm);
		if (asprintf(&q->select_all, "SELECT ref%s FROM \"%s\"", cols, c->info.name) < 0 ||
		    asprintf(&q->select_one, "SELECT ref%s FROM \"%s\" WHERE ref = ?", cols, c->info.name) < 0 ||
		    asprintf(&q->insert, "INSERT INTO \"%s\" (ref%s) VALUES (?%s)", c->info.name, cols, marks) < 0)
			abort();
		free(cols);
		free(marks);
	}
}

static const struct class_sql *sql_for(const struct class_def *c)
{
	pthread_once(&sql_once, build_sql);
	for (size_t i = 0; i < class_def_count(); i++)
		if (class_def_at(i) == c)
			return &sqls[i];
	abort(); /* every class_def comes from the registry */
}

int rec_handle_invalid(const struct class_def *c, const char *ref)
{
	return ERR2(XVM_ERR_HANDLE_INVALID, c->info.name, ref ? ref : "",
		    "%s is not a reference to an existing %s", ref ? ref : "(null)", c->info.name);
}

/* Column -> JSON by the field's type. */
static struct json_object *column_value(sqlite3_stmt *st, int col, const struct field_def *f)
{
	switch (f->info.type) {
	case XVM_TYPE_INT:
		return json_object_new_int64(sqlite3_column_int64(st, col));
	case XVM_TYPE_BOOL:
		return json_object_new_boolean(sqlite3_column_int(st, col) != 0);
	case XVM_TYPE_FLOAT:
		return json_object_new_double(sqlite3_column_double(st, col));
	case XVM_TYPE_SET:
	case XVM_TYPE_MAP: {
		const char *text = (const char *)sqlite3_column_text(st, col);
		/* Most maps and sets are empty: skip the parser for them. */
		if (!text || strcmp(text, "{}") == 0 || strcmp(text, "[]") == 0)
			return f->info.type == XVM_TYPE_SET ? json_object_new_array() : json_object_new_object();
		struct json_object *v = json_tokener_parse(text);
		return v ? v : field_default(f);
	}
	default: {
		const char *text = (const char *)sqlite3_column_text(st, col);
		return json_object_new_string(text ? text : "");
	}
	}
}

/* JSON -> bound parameter by the field's type. */
static void bind_value(sqlite3_stmt *st, int idx, const struct field_def *f, struct json_object *v)
{
	switch (f->info.type) {
	case XVM_TYPE_INT:
		sqlite3_bind_int64(st, idx, json_object_get_int64(v));
		break;
	case XVM_TYPE_BOOL:
		sqlite3_bind_int(st, idx, json_object_get_boolean(v));
		break;
	case XVM_TYPE_FLOAT:
		sqlite3_bind_double(st, idx, json_object_get_double(v));
		break;
	case XVM_TYPE_SET:
	case XVM_TYPE_MAP:
		sqlite3_bind_text(st, idx, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), -1,
				  SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_text(st, idx, json_object_get_string(v), -1, SQLITE_TRANSIENT);
	}
}

static struct json_object *row_record(sqlite3_stmt *st, const struct class_sql *q)
{
	struct json_object *rec = json_object_new_object();
	for (size_t i = 0; i < q->nstored; i++)
		json_object_object_add(rec, q->stored[i]->info.name, column_value(st, (int)i + 1, q->stored[i]));
	return rec;
}

/* Fills reverse and computed fields of one record. */
static int complete_record(struct engine *e, const struct class_def *c, const char *ref,
			   struct json_object *rec)
{
	for (const struct field_def *f = c->fields; f->info.name; f++) {
		if (f->flags & FIELD_REVERSE) {
			struct json_object *refs;
			int r = rec_find(e, class_def_lookup(f->reverse_class), f->reverse_field, ref, &refs);
			if (r < 0)
				return r;
			json_object_object_add(rec, f->info.name, refs);
		} else if (f->flags & FIELD_COMPUTED) {
			json_object_object_add(rec, f->info.name, field_default(f));
		}
	}
	if (c->compute) {
		struct json_object *ctx = c->compute_context ? c->compute_context(e) : NULL;
		c->compute(e, ctx, ref, rec);
		json_object_put(ctx);
	}
	return 0;
}

/* An object outside the store, or HANDLE_INVALID. */
static int read_virtual(struct engine *e, const struct class_def *c, const char *ref, struct json_object **ret)
{
	struct json_object *all, *rec;
	int r = c->virtual_records ? c->virtual_records(e, &all) : rec_handle_invalid(c, ref);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(all, ref, &rec)) {
		*ret = json_object_get(rec);
	} else {
		r = rec_handle_invalid(c, ref);
	}
	json_object_put(all);
	return r;
}

/* Appends to refs the virtual objects whose field equals value (NULL: all). */
static int find_virtual(struct engine *e, const struct class_def *c, const char *field, const char *value,
			struct json_object *refs)
{
	struct json_object *all;
	int r = c->virtual_records ? c->virtual_records(e, &all) : 0;
	if (r < 0 || !c->virtual_records)
		return r;
	json_object_object_foreach(all, ref, rec) {
		struct json_object *v;
		if (!field || (json_object_object_get_ex(rec, field, &v) && strcmp(json_object_get_string(v), value) == 0))
			json_object_array_add(refs, json_object_new_string(ref));
	}
	json_object_put(all);
	return 0;
}

int rec_insert(struct engine *e, const struct class_def *c, const char *ref, struct json_object *fields)
{
	const struct class_sql *q = sql_for(c);
	sqlite3_stmt *st = store_stmt(e->store, q->insert);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
	char uuid[XVM_UUID_BUFLEN];
	for (size_t i = 0; i < q->nstored; i++) {
		const struct field_def *f = q->stored[i];
		struct json_object *v;
		if (fields && json_object_object_get_ex(fields, f->info.name, &v)) {
			bind_value(st, (int)i + 2, f, v);
		} else if (strcmp(f->info.name, "uuid") == 0) {
			uuid_generate_str(uuid);
			sqlite3_bind_text(st, (int)i + 2, uuid, -1, SQLITE_STATIC);
		} else {
			bind_default(st, (int)i + 2, f, &q->defaults[i]);
		}
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_CONSTRAINT
			? ERR1(XVM_ERR_INVALID_VALUE, c->info.name, "a %s with that reference or UUID exists already",
			       c->info.name)
			: store_error(e->store, "insert");
	return changelog_add(e->store, c->info.name, ref, "add");
}

int rec_copy(struct engine *e, const struct class_def *c, const char *src, const char *dst,
	     struct json_object *overrides)
{
	const struct class_sql *q = sql_for(c);
	/* INSERT INTO T (ref, uuid, f...) SELECT ?, ?, f-or-? ... FROM T WHERE ref = ? */
	struct sql cols = { 0 }, vals = { 0 }, q_all = { 0 };
	sql_add(&cols, "ref, \"uuid\"");
	sql_add(&vals, "?, ?");
	for (size_t i = 0; i < q->nstored; i++) {
		const struct field_def *f = q->stored[i];
		bool given = overrides && json_object_object_get_ex(overrides, f->info.name, NULL);
		if (strcmp(f->info.name, "uuid") == 0 || (!given && f->info.qualifier == XVM_QUAL_RO_RUNTIME))
			continue;
		sql_add(&cols, ", ");
		sql_ident(&cols, f->info.name);
		sql_add(&vals, ", ");
		if (given)
			sql_add(&vals, "?");
		else
			sql_ident(&vals, f->info.name);
	}
	sql_add(&q_all, "INSERT INTO ");
	sql_ident(&q_all, c->info.name);
	sql_add(&q_all, " (");
	sql_add(&q_all, cols.text);
	sql_add(&q_all, ") SELECT ");
	sql_add(&q_all, vals.text);
	sql_add(&q_all, " FROM ");
	sql_ident(&q_all, c->info.name);
	sql_add(&q_all, " WHERE ref = ?");
	if (cols.overflow || vals.overflow || q_all.overflow)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "statement too long for %s", c->info.name);
	sqlite3_stmt *st = store_stmt(e->store, q_all.text);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	char uuid[XVM_UUID_BUFLEN];
	uuid_generate_str(uuid);
	int idx = 1;
	sqlite3_bind_text(st, idx++, dst, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, idx++, uuid, -1, SQLITE_STATIC);
	for (size_t i = 0; i < q->nstored; i++) {
		struct json_object *v;
		if (overrides && strcmp(q->stored[i]->info.name, "uuid") != 0 &&
		    json_object_object_get_ex(overrides, q->stored[i]->info.name, &v))
			bind_value(st, idx++, q->stored[i], v);
	}
	sqlite3_bind_text(st, idx, src, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_error(e->store, "copy");
	if (!sqlite3_changes(store_db(e->store)))
		return rec_handle_invalid(c, src);
	return changelog_add(e->store, c->info.name, dst, "add");
}

/* The stored fields of the row `ref`; 1 when there is no such row. */
static int read_row(struct engine *e, const struct class_def *c, const char *ref, struct json_object **ret)
{
	const struct class_sql *q = sql_for(c);
	sqlite3_stmt *st = store_stmt(e->store, q->select_one);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return store_error(e->store, "read");
	*ret = row_record(st, q);
	sqlite3_reset(st);
	return 0;
}

int rec_read(struct engine *e, const struct class_def *c, const char *ref, struct json_object **ret)
{
	struct json_object *rec = NULL;
	int r = read_row(e, c, ref, &rec);
	if (r != 0)
		return r == 1 ? read_virtual(e, c, ref, ret) : r;
	if ((r = complete_record(e, c, ref, rec)) < 0) {
		json_object_put(rec);
		return r;
	}
	*ret = rec;
	return 0;
}

int rec_read_fields(struct engine *e, const struct class_def *c, const char *ref,
		    const char *const *fields, struct json_object **ret)
{
	struct sql q = { 0 };
	sql_add(&q, "SELECT ref");
	for (const char *const *p = fields; *p; p++) {
		sql_add(&q, ", ");
		sql_ident(&q, *p);
	}
	sql_add(&q, " FROM ");
	sql_ident(&q, c->info.name);
	sql_add(&q, " WHERE ref = ?");
	if (q.overflow)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "statement too long for %s", c->info.name);
	sqlite3_stmt *st = store_stmt(e->store, q.text);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return rec_handle_invalid(c, ref);
	if (rc != SQLITE_ROW)
		return store_error(e->store, "read");
	struct json_object *rec = json_object_new_object();
	int col = 1;
	for (const char *const *p = fields; *p; p++, col++)
		json_object_object_add(rec, *p, column_value(st, col, class_def_field(c, *p)));
	sqlite3_reset(st);
	*ret = rec;
	return 0;
}

/* One query per reverse relation for the whole class, grouped in memory. */
static int add_reverse_all(struct engine *e, const struct field_def *f, struct json_object *records)
{
	char *sql;
	if (asprintf(&sql, "SELECT \"%s\", ref FROM \"%s\" WHERE \"%s\" != 'OpaqueRef:NULL'",
		     f->reverse_field, f->reverse_class, f->reverse_field) < 0)
		return error_oom();
	sqlite3_stmt *st = store_stmt(e->store, sql);
	free(sql);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	json_object_object_foreach(records, ref, rec) {
		(void)ref;
		json_object_object_add(rec, f->info.name, json_object_new_array());
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct json_object *owner, *set;
		if (json_object_object_get_ex(records, (const char *)sqlite3_column_text(st, 0), &owner) &&
		    json_object_object_get_ex(owner, f->info.name, &set))
			json_object_array_add(set, json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_error(e->store, "read");
}

int rec_read_all(struct engine *e, const struct class_def *c, struct json_object **ret)
{
	const struct class_sql *q = sql_for(c);
	sqlite3_stmt *st = store_stmt(e->store, q->select_all);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	struct json_object *all = json_object_new_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_object_add(all, (const char *)sqlite3_column_text(st, 0), row_record(st, q));
	sqlite3_reset(st);
	int r = rc == SQLITE_DONE ? 0 : store_error(e->store, "read");
	for (const struct field_def *f = c->fields; r == 0 && f->info.name; f++) {
		if (f->flags & FIELD_REVERSE) {
			r = add_reverse_all(e, f, all);
		} else if (f->flags & FIELD_COMPUTED) {
			json_object_object_foreach(all, ref, rec) {
				(void)ref;
				json_object_object_add(rec, f->info.name, field_default(f));
			}
		}
	}
	if (r == 0 && c->compute) {
		struct json_object *ctx = c->compute_context ? c->compute_context(e) : NULL;
		json_object_object_foreach(all, ref, rec)
			c->compute(e, ctx, ref, rec);
		json_object_put(ctx);
	}
	struct json_object *extra;
	if (r == 0 && c->virtual_records && (r = c->virtual_records(e, &extra)) == 0) {
		json_object_object_foreach(extra, vref, vrec)
			json_object_object_add(all, vref, json_object_get(vrec));
		json_object_put(extra);
	}
	if (r < 0) {
		json_object_put(all);
		return r;
	}
	*ret = all;
	return 0;
}

static void project(struct json_object *records, struct json_object *fields)
{
	json_object_object_foreach(records, ref, rec) {
		(void)ref;
		struct json_object *kept = json_object_new_object(), *v;
		for (size_t i = 0; i < json_object_array_length(fields); i++) {
			const char *name = json_object_get_string(json_object_array_get_idx(fields, i));
			if (json_object_object_get_ex(rec, name, &v))
				json_object_object_add(kept, name, json_object_get(v));
		}
		json_object_object_add(records, ref, kept);
	}
}

int rec_read_all_fields(struct engine *e, const struct class_def *c, struct json_object *fields,
			struct json_object **ret)
{
	bool computed = false;
	size_t n = json_object_array_length(fields);
	for (size_t i = 0; i < n; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(fields, i));
		const struct field_def *f = class_def_field(c, name);
		if (!f)
			return ERR2(XVM_ERR_INVALID_VALUE, "fields", name ? name : "", "%s has no field '%s'",
				    c->info.name, name ? name : "");
		computed |= (f->flags & FIELD_COMPUTED) != 0;
	}
	/* Computed fields need whole records; stored and reverse ones do not. */
	if (computed || c->virtual_records) {
		int r = rec_read_all(e, c, ret);
		if (r == 0)
			project(*ret, fields);
		return r;
	}
	struct sql q = { 0 };
	sql_add(&q, "SELECT ref");
	for (size_t i = 0; i < n; i++) {
		const struct field_def *f = class_def_field(c, json_object_get_string(json_object_array_get_idx(fields, i)));
		if (field_is_stored(f)) {
			sql_add(&q, ", ");
			sql_ident(&q, f->info.name);
		}
	}
	sql_add(&q, " FROM ");
	sql_ident(&q, c->info.name);
	if (q.overflow)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "statement too long for %s", c->info.name);
	sqlite3_stmt *st = store_stmt(e->store, q.text);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	struct json_object *all = json_object_new_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct json_object *rec = json_object_new_object();
		int col = 1;
		for (size_t i = 0; i < n; i++) {
			const struct field_def *f =
				class_def_field(c, json_object_get_string(json_object_array_get_idx(fields, i)));
			if (field_is_stored(f))
				json_object_object_add(rec, f->info.name, column_value(st, col++, f));
		}
		json_object_object_add(all, (const char *)sqlite3_column_text(st, 0), rec);
	}
	sqlite3_reset(st);
	int r = rc == SQLITE_DONE ? 0 : store_error(e->store, "read");
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct field_def *f = class_def_field(c, json_object_get_string(json_object_array_get_idx(fields, i)));
		if (f->flags & FIELD_REVERSE)
			r = add_reverse_all(e, f, all);
	}
	if (r < 0) {
		json_object_put(all);
		return r;
	}
	*ret = all;
	return 0;
}

int rec_update(struct engine *e, const struct class_def *c, const char *ref, struct json_object *fields)
{
	struct sql q = { 0 };
	sql_add(&q, "UPDATE ");
	sql_ident(&q, c->info.name);
	sql_add(&q, " SET ");
	int n = 0;
	json_object_object_foreach(fields, name, v) {
		(void)v;
		if (n++)
			sql_add(&q, ", ");
		sql_ident(&q, name);
		sql_add(&q, " = ?");
	}
	sql_add(&q, " WHERE ref = ?");
	if (n == 0)
		return 0;
	if (q.overflow)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "statement too long for %s", c->info.name);
	sqlite3_stmt *st = store_stmt(e->store, q.text);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	int idx = 1;
	json_object_object_foreach(fields, name2, v2) {
		const struct field_def *fd = class_def_field(c, name2);
		if (!fd || !field_is_stored(fd))
			return ERR0(XVM_ERR_INTERNAL_ERROR, "%s.%s is not a stored field", c->info.name, name2);
		bind_value(st, idx++, fd, v2);
	}
	sqlite3_bind_text(st, idx, ref, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_error(e->store, "update");
	sqlite3_reset(st);
	if (!sqlite3_changes(store_db(e->store)))
		return rec_handle_invalid(c, ref);
	return changelog_add(e->store, c->info.name, ref, "mod");
}

int rec_delete(struct engine *e, const struct class_def *c, const char *ref)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "DELETE FROM \"%s\" WHERE ref = ?", c->info.name);
	sqlite3_stmt *st = store_stmt(e->store, sql);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_error(e->store, "delete");
	sqlite3_reset(st);
	return sqlite3_changes(store_db(e->store)) ? changelog_add(e->store, c->info.name, ref, "del") : 0;
}

int rec_exists(struct engine *e, const struct class_def *c, const char *ref)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" WHERE ref = ?", c->info.name);
	sqlite3_stmt *st = store_stmt(e->store, sql);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(e->store, "read");
	return rc == SQLITE_ROW;
}

static int collect_refs(struct engine *e, sqlite3_stmt *st, struct json_object **refs)
{
	struct json_object *a = json_object_new_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(a, json_object_new_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_object_put(a);
		return store_error(e->store, "read");
	}
	*refs = a;
	return 0;
}

int rec_find(struct engine *e, const struct class_def *c, const char *field, const char *value,
	     struct json_object **refs)
{
	char sql[256];
	/* For references the extra term lets SQLite use the partial index that
	 * leaves null references out (see store/schema.c). */
	const struct field_def *f = class_def_field(c, field);
	bool is_ref = f && f->info.type == XVM_TYPE_REF;
	snprintf(sql, sizeof(sql), "SELECT ref FROM \"%s\" WHERE \"%s\" = ?%s%s%s", c->info.name, field,
		 is_ref ? " AND \"" : "", is_ref ? field : "", is_ref ? "\" != 'OpaqueRef:NULL'" : "");
	sqlite3_stmt *st = store_stmt(e->store, sql);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	int r = collect_refs(e, st, refs);
	if (r == 0 && (r = find_virtual(e, c, field, value, *refs)) < 0)
		json_object_put(*refs);
	return r;
}

int rec_find_one(struct engine *e, const struct class_def *c, const char *field, const char *value,
		 char **ref)
{
	struct json_object *refs;
	int r = rec_find(e, c, field, value, &refs);
	if (r < 0)
		return r;
	*ref = json_object_array_length(refs)
		? strdup(json_object_get_string(json_object_array_get_idx(refs, 0)))
		: NULL;
	json_object_put(refs);
	return 0;
}

int rec_all_refs(struct engine *e, const struct class_def *c, struct json_object **refs)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT ref FROM \"%s\"", c->info.name);
	sqlite3_stmt *st = store_stmt(e->store, sql);
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	int r = collect_refs(e, st, refs);
	if (r == 0 && (r = find_virtual(e, c, NULL, NULL, *refs)) < 0)
		json_object_put(*refs);
	return r;
}
