/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store/checkpoint.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"
#include "core/log.h"

#define CHECKPOINT_PAGES 1000    /* SQLite's own default threshold */
#define HARD_LIMIT_PAGES 65536   /* 256 MiB: the writer checkpoints itself */

struct checkpointer {
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, requested, stopping;
};

static void checkpoint_now(sqlite3 *db, int mode)
{
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warning("state store checkpoint failed: %s", sqlite3_errstr(rc));
}

/*
 * The bulk of the copy runs PASSIVE, beside the writers. Writers append
 * meanwhile, so the WAL would never come back to its start and would grow
 * without end; a RESTART then copies the few frames left (writers wait for
 * that short part only) and lets the next writer start the WAL afresh.
 */
static void checkpoint_in_background(sqlite3 *db)
{
	checkpoint_now(db, SQLITE_CHECKPOINT_PASSIVE);
	checkpoint_now(db, SQLITE_CHECKPOINT_RESTART);
}

static void *run(void *arg)
{
	struct checkpointer *c = arg;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warning("state store checkpointer cannot open %s", c->path);
		sqlite3_close(db);
		db = NULL;
	} else {
		sqlite3_busy_timeout(db, 1000);
		sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		/* A connection knows the database is in WAL mode only once it has read it. */
		sqlite3_exec(db, "PRAGMA journal_mode", NULL, NULL, NULL);
	}
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		if (!c->requested) {
			pthread_cond_wait(&c->wake, &c->lock);
			continue;
		}
		c->requested = false;
		pthread_mutex_unlock(&c->lock);
		if (db)
			checkpoint_in_background(db);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	/* A process that wrote enough to start the thread leaves the WAL empty
	 * behind it: the next process reads the database, not a long log. */
	if (db)
		checkpoint_now(db, SQLITE_CHECKPOINT_TRUNCATE);
	sqlite3_close(db);
	return NULL;
}

static int on_commit(void *arg, sqlite3 *db, const char *name, int wal_pages)
{
	struct checkpointer *c = arg;
	if (wal_pages >= HARD_LIMIT_PAGES) {
		checkpoint_now(db, SQLITE_CHECKPOINT_PASSIVE);
		return SQLITE_OK;
	}
	if (wal_pages < CHECKPOINT_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&c->lock);
	/* Started on first need: short-lived processes never have the thread. */
	if (!c->started && pthread_create(&c->thread, NULL, run, c) == 0)
		c->started = true;
	bool started = c->started;
	c->requested = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	if (!started)
		checkpoint_now(db, SQLITE_CHECKPOINT_PASSIVE);
	return SQLITE_OK;
}

int checkpointer_start(sqlite3 *db, const char *path, struct checkpointer **ret)
{
	struct checkpointer *c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		return error_oom();
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	sqlite3_wal_hook(db, on_commit, c);
	*ret = c;
	return 0;
}

void checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	bool started = c->started;
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	if (started)
		pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c);
}
