/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker pool: the HTTP threads only move bytes; every call runs on
 * one of these threads, so a slow call (a guest taking its time to shut
 * down) holds one worker and nothing else.
 *
 * At most `max` workers run calls at once. A worker about to wait for a
 * long time (event.from) parks itself: it no longer counts, and the pool
 * starts another thread if calls are waiting, so clients that wait for
 * events never starve those that call. Threads start when needed and the
 * extra ones end when the pool has more than it needs.
 */
#pragma once

struct workers;

typedef void (*work_fn)(void *data);

int workers_start(unsigned max, struct workers **ret);
/* Queues fn(data) for the next free worker. 0, or -ENOMEM. */
int workers_submit(struct workers *w, work_fn fn, void *data);
/* Runs what is queued to the end, then stops and frees the pool. */
void workers_stop(struct workers *w);

/* Called by a worker around a long wait; nothing on other threads. */
void workers_park(void);
void workers_unpark(void);
