/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Async calls (core/async.c) on a local connection: tasks in the store. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static struct json_object *args_vm_start(const char *vm)
{
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(vm));
	json_object_array_add(a, json_object_new_boolean(0));
	json_object_array_add(a, json_object_new_boolean(0));
	return a;
}

/* The task's record once it has ended (asserting it does within 10 s). */
static struct json_object *wait_task(xvm_conn *c, const char *task)
{
	for (int i = 0; i < 1000; i++) {
		struct json_object *rec;
		T_OK(xvm_object_get_record(c, "task", task, &rec));
		const char *st = json_object_get_string(json_object_object_get(rec, "status"));
		if (strcmp(st, "pending") && strcmp(st, "cancelling"))
			return rec;
		json_object_put(rec);
		usleep(10000);
	}
	cr_assert_fail("task %s did not end", task);
	return NULL;
}

Test(async, start_and_fail)
{
	char *dir = t_tmpdir();
	xvm_conn *c = t_connect(dir);
	char *vm = t_install(c, "a");
	struct json_object *args = args_vm_start(vm), *task, *rec;
	T_OK(xvm_call(c, "Async.VM.start", args, &task));
	rec = wait_task(c, json_object_get_string(task));
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "status")), "success");
	cr_assert_str_eq(t_gets(c, "VM", vm, "power_state"), "Running");
	json_object_put(rec);
	json_object_put(task);

	T_OK(xvm_call(c, "Async.VM.start", args, &task));
	rec = wait_task(c, json_object_get_string(task));
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "status")), "failure");
	struct json_object *info = json_object_object_get(rec, "error_info");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(info, 0)), "VM_BAD_POWER_STATE");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(info, 1)), vm);
	json_object_put(rec);

	struct json_object *none = NULL;
	T_ERR(xvm_call(c, "Async.VM.nothing", args, &none), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "Async.VM.nothing");
	cr_assert_null(none);
	/* Another process sees the task as it ended. */
	xvm_conn *other = t_connect(dir);
	cr_assert_str_eq(t_gets(other, "task", json_object_get_string(task), "status"), "failure");
	xvm_disconnect(other);
	json_object_put(task);
	json_object_put(args);
	free(vm);
	xvm_disconnect(c);
	t_rmdir(dir);
}

/* Closing a connection ends the Async calls that wait (event.from) rather
 * than waiting out their timeouts. */
Test(async, disconnect_ends_waiting_calls)
{
	char *dir = t_tmpdir();
	xvm_conn *c = t_connect(dir);
	struct json_object *args = json_object_new_array(), *classes = json_object_new_array(), *task;
	json_object_array_add(classes, json_object_new_string("host"));
	json_object_array_add(args, classes);
	json_object_array_add(args, json_object_new_string("1"));
	json_object_array_add(args, json_object_new_double(60));
	T_OK(xvm_call(c, "Async.event.from", args, &task));
	usleep(100000);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	xvm_disconnect(c);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_lt((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, 5.0);
	xvm_conn *again = t_connect(dir);
	cr_assert_str_eq(t_gets(again, "task", json_object_get_string(task), "status"), "success");
	xvm_disconnect(again);
	json_object_put(task);
	json_object_put(args);
	t_rmdir(dir);
}
