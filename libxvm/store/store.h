/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state store: SQLite in WAL mode, one transaction per API operation.
 *
 * synchronous=NORMAL: a commit is durable against a crash of the process
 * (the WAL is in the page cache), fsync happens at checkpoints. A crash at
 * any point leaves the old or the new state, never half.
 */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>

struct store;

/* Opens (creating and migrating) the store at path; sets the error on failure. */
int store_open(const char *path, struct store **ret);
void store_close(struct store *s);

/* Transactions: begin_write takes the database write lock at once (BEGIN
 * IMMEDIATE), so two processes never deadlock upgrading a read. A store is
 * used by one thread at a time between begin and commit/rollback. */
int store_begin_read(struct store *s);
int store_begin_write(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
bool store_in_transaction(const struct store *s);

/* Change notification: a transaction that logged a change (store_mark_changed,
 * see changelog.h) calls the hook once committed, outside the store's lock. */
void store_set_commit_hook(struct store *s, void (*fn)(void *data), void *data);
void store_mark_changed(struct store *s);

/* A prepared statement for sql, cached by its text; reset and unbound. */
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
/* Sets STORE_ERROR from the connection's last error; returns -code. */
int store_error(struct store *s, const char *what);
sqlite3 *store_db(struct store *s);

/* Key/value metadata, inside the caller's transaction. *value: free(). */
int store_meta_get(struct store *s, const char *key, char **value);
int store_meta_set(struct store *s, const char *key, const char *value);
