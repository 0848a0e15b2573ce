/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/: opening, schema migration steps, class reconciliation, metadata,
 * transactions, and refusing what is not an xvm database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "core/error_internal.h"
#include "objects/registry.h"
#include "store/schema.h"
#include "store/store.h"

static char *dir;
static char db_path[4200];

static void setup(void)
{
	dir = t_tmpdir();
	snprintf(db_path, sizeof(db_path), "%s/xvm.db", dir);
}

static void teardown(void)
{
	t_rmdir(dir);
	dir = NULL;
}

TestSuite(store, .init = setup, .fini = teardown);

static struct store *open_ok(void)
{
	struct store *s = NULL;
	int r = store_open(db_path, &s);
	cr_assert_eq(r, 0, "store_open(%s): %d %s: %s", db_path, r, t_errname(), t_errmsg());
	cr_assert_not_null(s);
	return s;
}

/* One integer from a query (asserting it yields a row). */
static long long q_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(store_db(s)));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: no row", sql);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* One text value, or NULL when no row (free()). */
static char *q_text(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(store_db(s)));
	char *out = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void q_exec(struct store *s, const char *sql)
{
	char *err = NULL;
	cr_assert_eq(sqlite3_exec(store_db(s), sql, NULL, NULL, &err), SQLITE_OK, "%s: %s", sql, err);
}

static bool has_table(struct store *s, const char *name)
{
	char *sql = sqlite3_mprintf("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = %Q", name);
	bool yes = q_int(s, sql) == 1;
	sqlite3_free(sql);
	return yes;
}

static bool has_column(struct store *s, const char *table, const char *column)
{
	char *sql = sqlite3_mprintf("SELECT count(*) FROM pragma_table_info(%Q) WHERE name = %Q", table, column);
	bool yes = q_int(s, sql) == 1;
	sqlite3_free(sql);
	return yes;
}

static int latest_version(void)
{
	return schema_steps[schema_nsteps - 1].version;
}

/* --- opening ----------------------------------------------------------------- */

Test(store, fresh_open_creates_schema)
{
	struct stat st;
	cr_assert_eq(stat(db_path, &st), -1);
	struct store *s = open_ok();
	cr_assert_eq(stat(db_path, &st), 0, "no database file was created");
	cr_assert(has_table(s, "meta"));
	cr_assert_eq(q_int(s, "PRAGMA user_version"), latest_version());
	cr_assert_gt(class_def_count(), 0);
	for (size_t i = 0; i < class_def_count(); i++) {
		const struct class_def *c = class_def_at(i);
		cr_assert(has_table(s, c->info.name), "no table for class %s", c->info.name);
		/* every stored field has its column, reverse and computed ones none */
		for (const struct field_def *f = c->fields; f->info.name; f++)
			cr_assert_eq(has_column(s, c->info.name, f->info.name), field_is_stored(f), "%s.%s",
				     c->info.name, f->info.name);
		cr_assert(has_column(s, c->info.name, "ref"));
	}
	char *mode = q_text(s, "PRAGMA journal_mode");
	cr_assert_str_eq(mode, "wal");
	free(mode);
	char *digest = NULL;
	T_OK(store_begin_read(s));
	T_OK(store_meta_get(s, "classes_digest", &digest));
	store_rollback(s);
	cr_assert(digest && *digest, "no classes_digest recorded");
	free(digest);
	store_close(s);
}

Test(store, reopen_is_idempotent)
{
	struct store *s = open_ok();
	q_exec(s, "INSERT INTO meta(key, value) VALUES ('probe', 'kept')");
	long long tables = q_int(s, "SELECT count(*) FROM sqlite_master");
	char *digest = q_text(s, "SELECT value FROM meta WHERE key = 'classes_digest'");
	store_close(s);
	for (int i = 0; i < 3; i++) {
		s = open_ok();
		cr_assert_eq(q_int(s, "SELECT count(*) FROM sqlite_master"), tables, "schema objects changed on reopen");
		cr_assert_eq(q_int(s, "PRAGMA user_version"), latest_version());
		char *d = q_text(s, "SELECT value FROM meta WHERE key = 'classes_digest'");
		cr_assert_str_eq(d, digest);
		free(d);
		char *probe = q_text(s, "SELECT value FROM meta WHERE key = 'probe'");
		cr_assert_str_eq(probe, "kept");
		free(probe);
		store_close(s);
	}
	free(digest);
}

Test(store, two_stores_on_one_file)
{
	struct store *a = open_ok(), *b = open_ok();
	T_OK(store_begin_write(a));
	T_OK(store_meta_set(a, "k", "from-a"));
	T_OK(store_commit(a));
	char *v = NULL;
	T_OK(store_begin_read(b));
	T_OK(store_meta_get(b, "k", &v));
	store_rollback(b);
	cr_assert_str_eq(v, "from-a");
	free(v);
	store_close(a);
	store_close(b);
}

/* --- not a database ---------------------------------------------------------- */

Test(store, junk_file_refused_and_untouched)
{
	char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)("this is not a database\n"[i % 23]);
	FILE *f = fopen(db_path, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	struct store *s = (struct store *)0x1;
	T_ERR(store_open(db_path, &s), XVM_ERR_STORE_INVALID, 1, db_path);
	cr_assert_eq(s, (struct store *)0x1, "output written on failure");
	size_t len;
	char *after = t_read_file(db_path, &len);
	cr_assert_eq(len, sizeof(junk), "the junk file changed size");
	cr_assert_eq(memcmp(after, junk, len), 0, "the junk file was modified");
	free(after);
}

Test(store, junk_file_refused_through_connect)
{
	char junk[1000];
	memset(junk, 0x5a, sizeof(junk));
	junk[sizeof(junk) - 1] = 0;
	t_write_file(db_path, junk);
	xvm_conn *c = NULL;
	T_ERR(xvm_connect(t_uri(dir), 0, &c), XVM_ERR_STORE_INVALID, -1);
	cr_assert_null(c);
	size_t len;
	char *after = t_read_file(db_path, &len);
	cr_assert_eq(len, strlen(junk));
	cr_assert_eq(memcmp(after, junk, len), 0, "the junk file was modified");
	free(after);
}

/* --- migrations ----------------------------------------------------------------- */

static int order[8];
static int norder;
static bool saw_no_transaction;

static int record_step(struct store *s, int v)
{
	order[norder++] = v;
	if (sqlite3_get_autocommit(store_db(s)))
		saw_no_transaction = true;
	return 0;
}
static int apply2(struct store *s) { return record_step(s, 2); }
static int apply3(struct store *s)
{
	/* sees step 2's table inside the same transaction */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(store_db(s), "SELECT count(*) FROM t2", -1, &st, NULL) != SQLITE_OK)
		return ERR0(XVM_ERR_STORE_ERROR, "step 3 cannot see t2");
	sqlite3_finalize(st);
	return record_step(s, 3);
}
static int apply4(struct store *s) { return record_step(s, 4); }
static int apply_fail(struct store *s)
{
	return ERR1(XVM_ERR_INTERNAL_ERROR, "step", "this step fails on purpose");
}

Test(store, migrate_applies_steps_in_order_in_a_transaction)
{
	struct store *s = open_ok();
	const struct schema_step steps[] = {
		schema_steps[0],
		{ 2, "CREATE TABLE t2 (x INTEGER); INSERT INTO t2 VALUES (2);", apply2 },
		{ 3, "INSERT INTO t2 VALUES (3);", apply3 },
		{ 4, NULL, apply4 },
	};
	norder = 0;
	saw_no_transaction = false;
	T_OK(schema_migrate(s, steps, 4));
	cr_assert_eq(norder, 3);
	cr_assert_eq(order[0], 2);
	cr_assert_eq(order[1], 3);
	cr_assert_eq(order[2], 4);
	cr_assert_not(saw_no_transaction, "a step ran outside a transaction");
	cr_assert_not(store_in_transaction(s));
	cr_assert_eq(q_int(s, "PRAGMA user_version"), 4);
	cr_assert_eq(q_int(s, "SELECT count(*) FROM t2"), 2);
	cr_assert_eq(q_int(s, "SELECT sum(x) FROM t2"), 5);
	/* up to date: nothing runs again */
	norder = 0;
	T_OK(schema_migrate(s, steps, 4));
	cr_assert_eq(norder, 0);
	cr_assert_eq(q_int(s, "SELECT count(*) FROM t2"), 2);
	store_close(s);
}

Test(store, migrate_runs_only_pending_steps)
{
	struct store *s = open_ok();
	const struct schema_step first[] = { schema_steps[0], { 2, NULL, apply2 } };
	const struct schema_step more[] = { schema_steps[0], { 2, NULL, apply2 }, { 3, "CREATE TABLE t2 (x);", apply3 } };
	norder = 0;
	T_OK(schema_migrate(s, first, 2));
	T_OK(schema_migrate(s, more, 3));
	cr_assert_eq(norder, 2);
	cr_assert_eq(order[0], 2);
	cr_assert_eq(order[1], 3);
	cr_assert_eq(q_int(s, "PRAGMA user_version"), 3);
	store_close(s);
}

Test(store, failing_sql_step_changes_nothing)
{
	struct store *s = open_ok();
	q_exec(s, "CREATE TABLE data (v TEXT); INSERT INTO data VALUES ('before');");
	const struct schema_step steps[] = {
		schema_steps[0],
		{ 2, "CREATE TABLE t2 (x); UPDATE data SET v = 'step2';", NULL },
		{ 3, "INSERT INTO no_such_table VALUES (1);", NULL },
	};
	T_ERR(schema_migrate(s, steps, 3), XVM_ERR_STORE_ERROR, -1);
	cr_assert_not(store_in_transaction(s));
	cr_assert_eq(q_int(s, "PRAGMA user_version"), 1, "user_version moved");
	cr_assert_not(has_table(s, "t2"), "step 2's table survived the failed migration");
	char *v = q_text(s, "SELECT v FROM data");
	cr_assert_str_eq(v, "before", "step 2's update survived the failed migration");
	free(v);
	store_close(s);
}

Test(store, failing_apply_step_changes_nothing)
{
	struct store *s = open_ok();
	const struct schema_step steps[] = {
		schema_steps[0],
		{ 2, "CREATE TABLE t2 (x);", NULL },
		{ 3, "CREATE TABLE t3 (x);", apply_fail },
	};
	T_ERR(schema_migrate(s, steps, 3), XVM_ERR_INTERNAL_ERROR, 1, "step");
	cr_assert_eq(q_int(s, "PRAGMA user_version"), 1);
	cr_assert_not(has_table(s, "t2"));
	cr_assert_not(has_table(s, "t3"));
	/* and the store still works */
	T_OK(store_begin_write(s));
	T_OK(store_meta_set(s, "after", "ok"));
	T_OK(store_commit(s));
	store_close(s);
}

Test(store, newer_database_refused)
{
	struct store *s = open_ok();
	q_exec(s, "CREATE TABLE data (v TEXT); INSERT INTO data VALUES ('mine');");
	q_exec(s, "PRAGMA user_version = 99");
	char know[16];
	snprintf(know, sizeof(know), "%d", latest_version());
	T_ERR(schema_migrate(s, schema_steps, schema_nsteps), XVM_ERR_STORE_VERSION_TOO_NEW, 2, "99", know);
	cr_assert_not(store_in_transaction(s));
	cr_assert_eq(q_int(s, "PRAGMA user_version"), 99);
	store_close(s);

	struct store *s2 = (struct store *)0x1;
	T_ERR(store_open(db_path, &s2), XVM_ERR_STORE_VERSION_TOO_NEW, 2, "99", know);
	cr_assert_eq(s2, (struct store *)0x1);
	xvm_conn *c = NULL;
	T_ERR(xvm_connect(t_uri(dir), 0, &c), XVM_ERR_STORE_VERSION_TOO_NEW, 2, "99", know);

	/* untouched: a newer xvm can still read its data */
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT v FROM data", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "mine");
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 99);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

Test(store, v1_database_with_data_gains_v2_change)
{
	struct store *s = open_ok();
	cr_assert_eq(q_int(s, "PRAGMA user_version"), 1);
	q_exec(s, "CREATE TABLE things (name TEXT); INSERT INTO things VALUES ('a'), ('b');");
	T_OK(store_begin_write(s));
	T_OK(store_meta_set(s, "owner", "v1"));
	T_OK(store_commit(s));
	const struct schema_step v2[] = {
		schema_steps[0],
		{ 2, "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 7;"
		     "INSERT INTO meta(key, value) VALUES ('migrated', 'yes');", NULL },
	};
	T_OK(schema_migrate(s, v2, 2));
	cr_assert_eq(q_int(s, "PRAGMA user_version"), 2);
	cr_assert(has_column(s, "things", "size"));
	cr_assert_eq(q_int(s, "SELECT count(*) FROM things"), 2);
	cr_assert_eq(q_int(s, "SELECT count(*) FROM things WHERE size = 7 AND name IN ('a', 'b')"), 2);
	char *v = NULL;
	T_OK(store_begin_read(s));
	T_OK(store_meta_get(s, "owner", &v));
	store_rollback(s);
	cr_assert_str_eq(v, "v1");
	free(v);
	char *m = q_text(s, "SELECT value FROM meta WHERE key = 'migrated'");
	cr_assert_str_eq(m, "yes");
	free(m);
	store_close(s);
}

/* --- reconciling class tables --------------------------------------------------- */

/* Recreates table VM without `column`, keeping every row. */
static void drop_column_by_recreate(struct store *s, const char *table, const char *column)
{
	sqlite3_stmt *st;
	char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q) WHERE name != %Q", table, column);
	cr_assert_eq(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_free(sql);
	char *cols = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&cols, &n);
	int k = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(f, "%s\"%s\"", k++ ? ", " : "", sqlite3_column_text(st, 0));
	fclose(f);
	sqlite3_finalize(st);
	sql = sqlite3_mprintf("BEGIN; CREATE TABLE \"old_%w\" AS SELECT %s FROM \"%w\"; DROP TABLE \"%w\";"
			      "ALTER TABLE \"old_%w\" RENAME TO \"%w\"; COMMIT;",
			      table, cols, table, table, table, table);
	q_exec(s, sql);
	sqlite3_free(sql);
	free(cols);
	cr_assert_not(has_column(s, table, column));
}

Test(store, reconcile_adds_missing_column_with_default)
{
	struct store *s = open_ok();
	q_exec(s, "INSERT INTO VM (ref, uuid, name_label, user_version, actions_after_reboot) VALUES "
		  "('OpaqueRef:one', '11111111-1111-4111-8111-111111111111', 'first', 5, 'destroy'),"
		  "('OpaqueRef:two', '22222222-2222-4222-8222-222222222222', 'second', 6, 'restart')");
	drop_column_by_recreate(s, "VM", "user_version");
	drop_column_by_recreate(s, "VM", "actions_after_reboot");
	q_exec(s, "DELETE FROM meta WHERE key = 'classes_digest'");
	store_close(s);

	s = open_ok();
	cr_assert(has_column(s, "VM", "user_version"), "the missing column was not added back");
	cr_assert(has_column(s, "VM", "actions_after_reboot"), "the missing column was not added back");
	cr_assert_eq(q_int(s, "SELECT count(*) FROM VM"), 2, "rows lost");
	/* old rows get the field's default: VM.user_version defaults to 1,
	 * actions_after_reboot to "restart" */
	cr_assert_eq(q_int(s, "SELECT user_version FROM VM WHERE ref = 'OpaqueRef:one'"), 1);
	cr_assert_eq(q_int(s, "SELECT user_version FROM VM WHERE ref = 'OpaqueRef:two'"), 1);
	char *a = q_text(s, "SELECT actions_after_reboot FROM VM WHERE ref = 'OpaqueRef:one'");
	cr_assert_str_eq(a, "restart");
	free(a);
	char *name = q_text(s, "SELECT name_label FROM VM WHERE ref = 'OpaqueRef:two'");
	cr_assert_str_eq(name, "second");
	free(name);
	char *digest = q_text(s, "SELECT value FROM meta WHERE key = 'classes_digest'");
	cr_assert(digest && *digest, "the digest was not recorded again");
	free(digest);
	/* new rows get the default too */
	q_exec(s, "INSERT INTO VM (ref, uuid) VALUES ('OpaqueRef:three', '33333333-3333-4333-8333-333333333333')");
	cr_assert_eq(q_int(s, "SELECT user_version FROM VM WHERE ref = 'OpaqueRef:three'"), 1);
	store_close(s);
}

Test(store, reconcile_directly_recreates_missing_table)
{
	struct store *s = open_ok();
	q_exec(s, "DROP TABLE VIF");
	q_exec(s, "DELETE FROM meta WHERE key = 'classes_digest'");
	cr_assert_not(has_table(s, "VIF"));
	T_OK(schema_reconcile_classes(s));
	cr_assert(has_table(s, "VIF"));
	for (const struct field_def *f = class_def_lookup("VIF")->fields; f->info.name; f++)
		if (field_is_stored(f))
			cr_assert(has_column(s, "VIF", f->info.name), "VIF.%s", f->info.name);
	cr_assert_not(store_in_transaction(s));
	store_close(s);
}

/* --- metadata and transactions ------------------------------------------------- */

Test(store, meta_get_set)
{
	struct store *s = open_ok();
	char *v = (char *)"untouched";
	T_OK(store_begin_write(s));
	cr_assert(store_in_transaction(s));
	T_OK(store_meta_get(s, "absent", &v));
	cr_assert_null(v, "a missing key must give NULL");
	T_OK(store_meta_set(s, "k", "one"));
	T_OK(store_meta_get(s, "k", &v));
	cr_assert_str_eq(v, "one");
	free(v);
	T_OK(store_meta_set(s, "k", "two"));
	T_OK(store_meta_set(s, "empty", ""));
	T_OK(store_commit(s));
	cr_assert_not(store_in_transaction(s));
	store_close(s);

	s = open_ok();
	T_OK(store_begin_read(s));
	T_OK(store_meta_get(s, "k", &v));
	cr_assert_str_eq(v, "two");
	free(v);
	T_OK(store_meta_get(s, "empty", &v));
	cr_assert_str_eq(v, "");
	free(v);
	store_rollback(s);
	cr_assert_eq(q_int(s, "SELECT count(*) FROM meta WHERE key = 'k'"), 1);
	store_close(s);
}

Test(store, rollback_discards)
{
	struct store *s = open_ok();
	T_OK(store_begin_write(s));
	T_OK(store_meta_set(s, "k", "committed"));
	T_OK(store_commit(s));

	T_OK(store_begin_write(s));
	T_OK(store_meta_set(s, "k", "rolled back"));
	T_OK(store_meta_set(s, "new", "rolled back"));
	q_exec(s, "CREATE TABLE scratch (x)");
	store_rollback(s);
	cr_assert_not(store_in_transaction(s));
	store_rollback(s); /* a second rollback is harmless */

	char *v = NULL;
	T_OK(store_begin_read(s));
	T_OK(store_meta_get(s, "k", &v));
	cr_assert_str_eq(v, "committed");
	free(v);
	T_OK(store_meta_get(s, "new", &v));
	cr_assert_null(v);
	store_rollback(s);
	cr_assert_not(has_table(s, "scratch"));
	store_close(s);
}

Test(store, close_rolls_back_open_transaction)
{
	struct store *s = open_ok();
	T_OK(store_begin_write(s));
	T_OK(store_meta_set(s, "k", "uncommitted"));
	store_close(s);
	s = open_ok();
	char *v = (char *)"x";
	T_OK(store_begin_read(s));
	T_OK(store_meta_get(s, "k", &v));
	store_rollback(s);
	cr_assert_null(v);
	store_close(s);
}

Test(store, write_transaction_excludes_other_writer)
{
	struct store *a = open_ok(), *b = open_ok();
	sqlite3_busy_timeout(store_db(b), 50); /* fail fast instead of waiting 30 s */
	T_OK(store_begin_write(a));
	T_ERR(store_begin_write(b), XVM_ERR_STORE_ERROR, -1);
	cr_assert_not(store_in_transaction(b));
	store_rollback(a);
	T_OK(store_begin_write(b));
	T_OK(store_commit(b));
	store_close(a);
	store_close(b);
}
