/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Operations in flight. They are runtime state, like the locks that guard
 * them, so they live beside those locks in run/oplocks and not in the store.
 *
 * Past the object locks (offsets below 2^40, see oplock.c) the file holds
 * fixed slots of 256 bytes. An operation takes the first slot whose lock
 * byte it can lock, with the same open file description as its object lock,
 * and writes a one-line JSON description into it. A slot whose lock is free
 * is empty, whatever it contains: a process that dies mid-operation frees
 * its slot with its locks. No file is created or removed per operation.
 * The slot's last bytes hold the operation's progress, apart from the
 * description so that updating it rewrites nothing else.
 *
 * They show as XenAPI's current_operations and as pending tasks.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "core/util.h"

struct engine;
struct oplock;

struct inflight {
	int fd;                     /* the object lock's description */
	uint64_t offset;            /* the slot */
	char task_ref[XVM_REF_BUFLEN];
};

/* Records the operation; `lock` is the caller's lock on the object. */
int inflight_begin(struct engine *e, const struct oplock *lock, const char *cls, const char *ref,
		   const char *op, struct inflight *ret);
/* How far the operation is, 0..1: shows as its task's progress, and as that
 * of the Async call the calling thread runs, if any. */
void inflight_set_progress(const struct inflight *op, double progress);
/* Clears the slot; its lock goes with the object lock. */
void inflight_end(struct inflight *op);

/*
 * The operation a dead process left in flight on `ref`, if any: copies its
 * name to op and clears its slot; 1 if there was one. The caller holds the
 * object's lock, so no live operation can be in flight on it.
 */
int inflight_take_stale(struct engine *e, const char *ref, char *op, size_t size);

/*
 * Live operations, as a map object reference -> { task reference -> op },
 * and (when tasks is not NULL) their task records, task reference -> record.
 */
int inflight_read(struct engine *e, struct json_object **by_object, struct json_object **tasks);
