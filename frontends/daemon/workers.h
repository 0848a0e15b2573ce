/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker pool: the HTTP threads only move bytes; every call runs on
 * one of these threads, so a slow call (a guest taking its time to shut
 * down) holds one worker and nothing else.
 */
#pragma once

struct workers;

typedef void (*work_fn)(void *data);

int workers_start(unsigned n, struct workers **ret);
/* Queues fn(data) for the next free worker. 0, or -ENOMEM. */
int workers_submit(struct workers *w, work_fn fn, void *data);
/* Runs what is queued to the end, then stops and frees the pool. */
void workers_stop(struct workers *w);
