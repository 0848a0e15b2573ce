/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* event.from over the change log (core/events.c, store/changelog.c). */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static struct json_object *from(xvm_conn *c, const char *cls, const char *token, double timeout)
{
	struct json_object *args = json_object_new_array(), *classes = json_object_new_array(), *out;
	json_object_array_add(classes, json_object_new_string(cls));
	json_object_array_add(args, classes);
	json_object_array_add(args, json_object_new_string(token));
	json_object_array_add(args, json_object_new_double(timeout));
	T_OK(xvm_call(c, "event.from", args, &out));
	json_object_put(args);
	return out;
}

static const char *token_of(struct json_object *r)
{
	return json_object_get_string(json_object_object_get(r, "token"));
}

static size_t nevents(struct json_object *r)
{
	return json_object_array_length(json_object_object_get(r, "events"));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(events, rolled_back_writes_make_no_event)
{
	char *dir = t_tmpdir();
	xvm_conn *c = t_connect(dir);
	char *vm = t_install(c, "a");
	struct json_object *r = from(c, "vm", "", 0);
	char *token = strdup(token_of(r));
	json_object_put(r);
	/* A refused change (a memory constraint broken) is rolled back: no event. */
	struct json_object *v = json_object_new_int64(1);
	cr_assert_lt(xvm_object_set_field(c, "VM", vm, "memory_static_max", v), 0);
	json_object_put(v);
	r = from(c, "vm", token, 0);
	cr_assert_eq(nevents(r), 0);
	cr_assert_str_eq(token_of(r), token);
	json_object_put(r);
	free(token);
	free(vm);
	xvm_disconnect(c);
	t_rmdir(dir);
}

struct waiter {
	xvm_conn *c;
	const char *token;
	struct json_object *result;
	double returned;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	w->result = from(w->c, "vm", w->token, 10);
	w->returned = now();
	return NULL;
}

/* Two connections are two engines, as two processes are: the writer's
 * commit reaches the other's waiter through the WAL watch. */
Test(events, another_engines_change_wakes_a_waiter)
{
	char *dir = t_tmpdir();
	xvm_conn *reader = t_connect(dir), *writer = t_connect(dir);
	char *vm = t_install(writer, "b");
	struct json_object *r = from(reader, "vm", "", 0);
	struct waiter w = { reader, token_of(r), NULL, 0 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
	usleep(200000);
	cr_assert_null(w.result);
	double changed = now();
	T_OK(xvm_vm_start(writer, vm, 0));
	pthread_join(t, NULL);
	cr_assert_lt(w.returned - changed, 2.0, "woken after %.3f s", w.returned - changed);
	struct json_object *ev = json_object_array_get_idx(json_object_object_get(w.result, "events"), 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(ev, "ref")), vm);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(ev, "operation")), "mod");
	json_object_put(w.result);
	json_object_put(r);
	free(vm);
	xvm_disconnect(writer);
	xvm_disconnect(reader);
	t_rmdir(dir);
}

Test(events, interrupt_ends_waits)
{
	char *dir = t_tmpdir();
	xvm_conn *c = t_connect(dir);
	struct json_object *r = from(c, "vm", "", 0);
	struct waiter w = { c, token_of(r), NULL, 0 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
	usleep(200000);
	double asked = now();
	xvm_interrupt(c);
	pthread_join(t, NULL);
	cr_assert_lt(w.returned - asked, 0.5);
	cr_assert_eq(nevents(w.result), 0);
	json_object_put(w.result);
	/* and later waits do not wait */
	double t0 = now();
	json_object_put(from(c, "vm", token_of(r), 5));
	cr_assert_lt(now() - t0, 0.5);
	json_object_put(r);
	xvm_disconnect(c);
	t_rmdir(dir);
}
