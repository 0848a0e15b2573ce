/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The change log: one row (id, class, ref, add|mod|del, time) per record
 * write, written in the same transaction as the write, so that event.from
 * sees every change made by any process, in commit order, or none of a
 * rolled-back one. Ids only grow; the oldest rows are trimmed, keeping the
 * last CHANGELOG_KEEP.
 *
 * The table is runtime history rather than state, like the files in run/:
 * it is created on open when missing, with no schema version of its own.
 */
#pragma once

#include <stdint.h>

struct store;

#define CHANGELOG_KEEP 100000

/* Creates the table if missing; cheap when it exists. */
int changelog_ensure(struct store *s);
/* Inside the caller's write transaction. op: "add", "mod" or "del". */
int changelog_add(struct store *s, const char *cls, const char *ref, const char *op);
/* The newest id (0 when empty) and the oldest kept, inside a transaction. */
int changelog_bounds(struct store *s, int64_t *oldest, int64_t *newest);

struct changelog_row {
	int64_t id;
	int64_t ts;
	const char *cls, *ref, *op; /* valid until the next step */
};
/* Calls fn for each row after `since`, in order, inside a transaction;
 * stops early when fn returns nonzero (that value is returned). */
int changelog_scan(struct store *s, int64_t since, int (*fn)(const struct changelog_row *row, void *data),
		   void *data);
