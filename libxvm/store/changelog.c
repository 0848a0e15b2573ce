/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store/changelog.h"

#include <stdlib.h>
#include <time.h>

#include "core/error_internal.h"
#include "store/store.h"

/* Trimming runs once every TRIM_EVERY ids: one DELETE of that many rows. */
#define TRIM_EVERY 4096

int changelog_ensure(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event_log'");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_error(s, "look for the change log");
	int r = store_begin_write(s);
	if (r < 0)
		return r;
	/* INTEGER PRIMARY KEY: the rowid, max + 1 on insert; never reused,
	 * since trimming always leaves the newest rows. */
	if (sqlite3_exec(store_db(s), "CREATE TABLE IF NOT EXISTS event_log (id INTEGER PRIMARY KEY, "
				      "class TEXT NOT NULL, ref TEXT NOT NULL, op TEXT NOT NULL, ts INTEGER NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		r = store_error(s, "create the change log");
		store_rollback(s);
		return r;
	}
	return store_commit(s);
}

int changelog_add(struct store *s, const char *cls, const char *ref, const char *op)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO event_log (class, ref, op, ts) VALUES (?, ?, ?, ?)");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, cls, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_error(s, "log a change");
	int64_t id = sqlite3_last_insert_rowid(store_db(s));
	store_mark_changed(s);
	if (id % TRIM_EVERY || id <= CHANGELOG_KEEP)
		return 0;
	if (!(st = store_stmt(s, "DELETE FROM event_log WHERE id <= ?")))
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_int64(st, 1, id - CHANGELOG_KEEP);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_error(s, "trim the change log");
}

int changelog_bounds(struct store *s, int64_t *oldest, int64_t *newest)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT ifnull(min(id), 0), ifnull(max(id), 0) FROM event_log");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*oldest = sqlite3_column_int64(st, 0);
		*newest = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : store_error(s, "read the change log");
}

int changelog_scan(struct store *s, int64_t since, int (*fn)(const struct changelog_row *row, void *data), void *data)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, ts, class, ref, op FROM event_log WHERE id > ? ORDER BY id");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_int64(st, 1, since);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct changelog_row row = {
			.id = sqlite3_column_int64(st, 0),
			.ts = sqlite3_column_int64(st, 1),
			.cls = (const char *)sqlite3_column_text(st, 2),
			.ref = (const char *)sqlite3_column_text(st, 3),
			.op = (const char *)sqlite3_column_text(st, 4),
		};
		stop = fn(&row, data);
	}
	sqlite3_reset(st);
	if (!stop && rc != SQLITE_DONE)
		return store_error(s, "read the change log");
	return stop;
}
