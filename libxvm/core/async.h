/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XenAPI's Async calls: `Async.CLASS.METHOD(args)` returns a task at once
 * and runs CLASS.METHOD on one of the engine's runner threads; the task's
 * record (in the store, so events and every process see it) goes from
 * pending to success (result), failure (error_info) or cancelled.
 *
 * task.cancel stops a task still waiting for a runner; one whose
 * operation has begun is marked cancelling and reports what the operation
 * did when it ends (xvm's operations are not cut off halfway).
 * The runners belong to the process: a task of a process that exits
 * before it ends stays pending; task.destroy removes it.
 */
#pragma once

#include <json-c/json.h>

struct engine;
struct async_pool;

/* name: the method without "Async."; args borrowed. *task: the task's ref. */
int async_start(struct engine *e, const char *name, struct json_object *args, struct json_object **task);
/* Waits for the running calls, drops the queued ones (their tasks are cancelled). */
void async_stop(struct engine *e);

/* The Async call the calling thread runs, if any, is `progress` (0..1) done:
 * its stored task says so (a write now and then, not at every call). */
void async_report_progress(double progress);

/* task.cancel and task.destroy are in methods.h's task_methods. */
