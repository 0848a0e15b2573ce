/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * WAL checkpoints off the callers' path.
 *
 * A checkpoint copies the WAL back into the database and is the one step
 * that fsyncs: run inside a commit (SQLite's default) it makes one operation
 * in a few dozen wait milliseconds on the disk, a third of the time of a
 * lifecycle burst. Here a commit only notes the WAL's size; past a
 * threshold a background thread with its own connection runs a PASSIVE
 * checkpoint, which writers do not wait for. Should the WAL still outgrow a
 * hard limit (a disk slower than the writers) the committer checkpoints
 * itself, so the WAL stays bounded.
 */
#pragma once

#include <sqlite3.h>

struct checkpointer;

/* Installs the WAL hook on db; path is the database, for the thread's own connection. */
int checkpointer_start(sqlite3 *db, const char *path, struct checkpointer **ret);
/* Stops the thread, if it ever started, after a last checkpoint that empties the WAL. */
void checkpointer_stop(struct checkpointer *c);
