/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/async.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/methods.h"
#include "lifecycle/inflight.h"
#include "lifecycle/oplock.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

struct job {
	struct engine *e;
	char *method;
	struct json_object *args;
	char task[XVM_REF_BUFLEN];
	char created[XVM_DATETIME_BUFLEN];
	struct oplock lock;     /* on the task: its in-flight slot */
	struct inflight mark;
};

/* The task's stored record, from the call's outcome. */
static struct json_object *outcome(struct job *j, int r, struct json_object *res)
{
	char now[XVM_DATETIME_BUFLEN];
	datetime_format(time(NULL), now);
	struct json_object *t = json_object_new_object();
	char name[160];
	snprintf(name, sizeof(name), "Async.%s", j->method);
	json_object_object_add(t, "name_label", json_object_new_string(name));
	json_object_object_add(t, "created", json_object_new_string(j->created));
	json_object_object_add(t, "finished", json_object_new_string(now));
	json_object_object_add(t, "resident_on", json_object_new_string(j->e->host_ref));
	json_object_object_add(t, "owner_pid", json_object_new_int(getpid()));
	json_object_object_add(t, "status", json_object_new_string(r == 0 ? "success" : "failure"));
	struct json_object *info = json_object_new_array();
	if (r == 0) {
		json_object_object_add(t, "progress", json_object_new_double(1));
		json_object_object_add(t, "result", json_object_new_string(
						     res ? json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN) : ""));
	} else {
		const struct xvm_error *err = xvm_last_error();
		json_object_array_add(info, json_object_new_string(err && err->name ? err->name : "INTERNAL_ERROR"));
		for (size_t i = 0; err && i < err->nparams; i++)
			json_object_array_add(info, json_object_new_string(err->params[i] ? err->params[i] : ""));
	}
	json_object_object_add(t, "error_info", info);
	return t;
}

static void *run_job(void *data)
{
	struct job *j = data;
	struct engine *e = j->e;
	struct json_object *res = NULL;
	inflight_mirror_progress(&j->mark);
	int r = methods_dispatch(e, j->method, j->args, &res);
	inflight_mirror_progress(NULL);
	struct json_object *t = outcome(j, r, res);
	/* Stored before the slot goes: the task is never missing. */
	if (store_begin_write(e->store) == 0) {
		if (rec_insert(e, &class_task, j->task, t) == 0)
			store_commit(e->store);
		else
			store_rollback(e->store);
	}
	json_object_put(t);
	json_object_put(res);
	inflight_end(&j->mark);
	oplock_release(&j->lock);
	json_object_put(j->args);
	free(j->method);
	free(j);
	pthread_mutex_lock(&e->async_lock);
	e->async_running--;
	pthread_cond_broadcast(&e->async_done);
	pthread_mutex_unlock(&e->async_lock);
	return NULL;
}

int async_start(struct engine *e, const char *method, struct json_object *args, struct json_object **result)
{
	if (strncmp(method, "Async.", 6) == 0)
		return ERR1(XVM_ERR_MESSAGE_METHOD_UNKNOWN, method, "there is no method Async.%s", method);
	struct job *j = calloc(1, sizeof(*j));
	if (!j || !(j->method = strdup(method))) {
		free(j);
		return error_oom();
	}
	j->e = e;
	j->args = json_object_get(args);
	ref_generate(j->task);
	datetime_format(time(NULL), j->created);
	int r = oplock_try(e, "task", j->task, &j->lock);
	if (r == 0 && (r = inflight_begin_as(e, &j->lock, "Async", j->task, method, j->task, &j->mark)) < 0)
		oplock_release(&j->lock);
	pthread_attr_t attr;
	pthread_t t;
	if (r == 0) {
		pthread_mutex_lock(&e->async_lock);
		e->async_running++;
		pthread_mutex_unlock(&e->async_lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int err = pthread_create(&t, &attr, run_job, j);
		pthread_attr_destroy(&attr);
		if (err == 0) {
			*result = json_object_new_string(j->task);
			return 0;
		}
		pthread_mutex_lock(&e->async_lock);
		e->async_running--;
		pthread_mutex_unlock(&e->async_lock);
		inflight_end(&j->mark);
		oplock_release(&j->lock);
		r = ERR0(XVM_ERR_INTERNAL_ERROR, "cannot start a thread for Async.%s: %s", method, strerror(err));
	}
	json_object_put(j->args);
	free(j->method);
	free(j);
	return r;
}

void async_wait_all(struct engine *e)
{
	pthread_mutex_lock(&e->async_lock);
	while (e->async_running)
		pthread_cond_wait(&e->async_done, &e->async_lock);
	pthread_mutex_unlock(&e->async_lock);
}
