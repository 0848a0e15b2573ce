/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XenAPI's Async.CLASS.METHOD: the call runs in a thread of its own and the
 * caller gets its task at once. While it runs the task is an operation in
 * flight (its progress that of the operation inside); once it ends the task
 * is a stored record: status success or failure, result, error_info.
 */
#pragma once

#include <json-c/json.h>

struct engine;

/* Starts `method` (without "Async.") with args; *result: the task's reference. */
int async_start(struct engine *e, const char *method, struct json_object *args, struct json_object **result);
/* Waits for the engine's async calls to end (before closing it). */
void async_wait_all(struct engine *e);
