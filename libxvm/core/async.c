/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/async.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/methods.h"
#include "core/util.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

#define RUNNERS 8

struct job {
	struct job *next;
	char *method;
	struct json_object *args;
	char task[XVM_REF_BUFLEN];
};

struct async_pool {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct job *head, *tail;
	bool stopping;
	int nthreads;
	pthread_t threads[RUNNERS];
};

static void job_free(struct job *j)
{
	free(j->method);
	json_object_put(j->args);
	free(j);
}

/* Updates the stored task's fields in a transaction of its own. */
static int task_update(struct engine *e, const char *task, struct json_object *changes)
{
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	if ((r = rec_update(e, &class_task, task, changes)) < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

/* Writes the task's outcome in one transaction. */
static int task_finish(struct engine *e, const char *task, const char *status, struct json_object *result,
		       const struct xvm_error *err)
{
	char now[XVM_DATETIME_BUFLEN];
	datetime_format(time(NULL), now);
	struct json_object *ch = json_object_new_object(), *info = json_object_new_array();
	json_object_object_add(ch, "status", json_object_new_string(status));
	json_object_object_add(ch, "progress", json_object_new_double(1.0));
	json_object_object_add(ch, "finished", json_object_new_string(now));
	/* XenAPI's result is text: a reference as it is, anything else as JSON. */
	const char *text = !result ? "" : json_object_is_type(result, json_type_string)
		? json_object_get_string(result)
		: json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN);
	json_object_object_add(ch, "result", json_object_new_string(text));
	if (err) {
		json_object_array_add(info, json_object_new_string(err->name));
		for (size_t i = 0; i < err->nparams; i++)
			json_object_array_add(info, json_object_new_string(err->params[i]));
	}
	json_object_object_add(ch, "error_info", info);
	int r = task_update(e, task, ch);
	json_object_put(ch);
	return r;
}

static int task_cancelled(struct engine *e, const char *task)
{
	char *p[] = { (char *)task };
	struct xvm_error err = { .code = XVM_ERR_TASK_CANCELLED, .name = "TASK_CANCELLED", .nparams = 1,
				 .params = (const char *const *)p };
	return task_finish(e, task, "cancelled", NULL, &err);
}

/* The call this runner thread is making, for async_report_progress. */
static _Thread_local struct {
	struct engine *e;
	const char *task;
	double reported;
} current;

void async_report_progress(double progress)
{
	/* A store write (and an event) per percent at most: a hundred per task. */
	if (!current.task || progress - current.reported < 0.01)
		return;
	struct json_object *ch = json_object_new_object();
	json_object_object_add(ch, "progress", json_object_new_double(progress));
	if (task_update(current.e, current.task, ch) == 0)
		current.reported = progress;
	json_object_put(ch);
	error_clear();
}

static void run(struct engine *e, struct job *j)
{
	struct json_object *out = NULL;
	current.e = e;
	current.task = j->task;
	current.reported = 0;
	int r = methods_call(e, j->method, j->args, &out);
	current.task = NULL;
	/* The outcome's error is this thread's; copy it before writing. */
	const struct xvm_error *le = r < 0 ? xvm_last_error() : NULL;
	struct xvm_error err = { 0 };
	char *params[8] = { 0 }, *name = NULL;
	if (le) {
		name = strdup(le->name ? le->name : "INTERNAL_ERROR");
		for (size_t i = 0; i < le->nparams && i < 8; i++)
			params[i] = strdup(le->params[i] ? le->params[i] : "");
		err = (struct xvm_error){ .name = name ? name : "INTERNAL_ERROR", .nparams = le->nparams < 8 ? le->nparams : 8,
					  .params = (const char *const *)params };
		for (size_t i = 0; i < err.nparams; i++)
			if (!params[i])
				err.nparams = i;
	}
	if (task_finish(e, j->task, r < 0 ? "failure" : "success", out, le ? &err : NULL) < 0)
		log_error("task %s (%s): cannot record its outcome: %s", j->task, j->method, xvm_last_error()->message);
	json_object_put(out);
	free(name);
	for (size_t i = 0; i < 8; i++)
		free(params[i]);
}

static void *runner(void *arg)
{
	struct engine *e = arg;
	struct async_pool *p = e->async;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->more, &p->lock);
		if (p->stopping)
			break;
		struct job *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		run(e, j);
		job_free(j);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The pool starts with the first Async call: processes that make none pay nothing. */
static struct async_pool *pool(struct engine *e)
{
	pthread_mutex_lock(&e->async_lock);
	if (!e->async && (e->async = calloc(1, sizeof(*e->async)))) {
		struct async_pool *p = e->async;
		pthread_mutex_init(&p->lock, NULL);
		pthread_cond_init(&p->more, NULL);
		while (p->nthreads < RUNNERS && pthread_create(&p->threads[p->nthreads], NULL, runner, e) == 0)
			p->nthreads++;
	}
	struct async_pool *p = e->async && e->async->nthreads ? e->async : NULL;
	pthread_mutex_unlock(&e->async_lock);
	return p;
}

/* Whether `name` is a method the table serves. */
static bool method_exists(const char *name)
{
	struct json_object *all = methods_list();
	bool found = false;
	for (size_t i = 0; !found && i < json_object_array_length(all); i++)
		found = strcmp(json_object_get_string(json_object_array_get_idx(all, i)), name) == 0;
	json_object_put(all);
	return found;
}

int async_start(struct engine *e, const char *name, struct json_object *args, struct json_object **task)
{
	char full[160];
	snprintf(full, sizeof(full), "Async.%s", name);
	if (!method_exists(name) || strncmp(name, "Async.", 6) == 0)
		return ERR1(XVM_ERR_MESSAGE_METHOD_UNKNOWN, full, "there is no method %s", full);
	struct async_pool *p = pool(e);
	struct job *j = calloc(1, sizeof(*j));
	if (!p || !j || !(j->method = strdup(name))) {
		free(j);
		return error_oom();
	}
	j->args = json_object_get(args);
	ref_generate(j->task);
	char now[XVM_DATETIME_BUFLEN];
	datetime_format(time(NULL), now);
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "name_label", json_object_new_string(full));
	json_object_object_add(rec, "created", json_object_new_string(now));
	json_object_object_add(rec, "status", json_object_new_string("pending"));
	json_object_object_add(rec, "resident_on", json_object_new_string(e->host_ref));
	json_object_object_add(rec, "owner_pid", json_object_new_int64(getpid()));
	int r = store_begin_write(e->store);
	if (r == 0) {
		r = rec_insert(e, &class_task, j->task, rec);
		r = r < 0 ? (store_rollback(e->store), r) : store_commit(e->store);
	}
	json_object_put(rec);
	if (r < 0) {
		job_free(j);
		return r;
	}
	*task = json_object_new_string(j->task);
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->more);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void async_stop(struct engine *e)
{
	struct async_pool *p = e->async;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	struct job *queued = p->head;
	p->head = p->tail = NULL;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (struct job *j = queued, *next; j; j = next) {
		next = j->next;
		task_cancelled(e, j->task);
		job_free(j);
	}
	pthread_cond_destroy(&p->more);
	pthread_mutex_destroy(&p->lock);
	free(p);
	e->async = NULL;
}

/* A queued job of this process, taken off the queue; NULL if none. */
static struct job *dequeue(struct engine *e, const char *task)
{
	pthread_mutex_lock(&e->async_lock);
	struct async_pool *p = e->async;
	pthread_mutex_unlock(&e->async_lock);
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	struct job *found = NULL, *prev = NULL;
	for (struct job *j = p->head; j && !found; prev = j, j = j->next) {
		if (strcmp(j->task, task) != 0)
			continue;
		found = j;
		if (prev)
			prev->next = j->next;
		else
			p->head = j->next;
		if (p->tail == j)
			p->tail = prev;
	}
	pthread_mutex_unlock(&p->lock);
	return found;
}

/* The stored task's status and owner (a task of an operation in flight is
 * not stored: it ends with its operation). */
static int stored_task(struct engine *e, const char *task, char *status, size_t size, int64_t *owner)
{
	const char *const fields[] = { "status", "owner_pid", NULL };
	struct json_object *rec = NULL;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = rec_read_fields(e, &class_task, task, fields, &rec);
	bool in_flight = r == -XVM_ERR_HANDLE_INVALID && rec_read(e, &class_task, task, &rec) == 0;
	store_rollback(e->store);
	if (in_flight) {
		json_object_put(rec);
		return ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, task, "cancel",
			    "%s is an operation in flight, not an asynchronous call: it ends with its operation", task);
	}
	if (r < 0)
		return r;
	snprintf(status, size, "%s", rec_str(rec, "status"));
	*owner = json_object_get_int64(json_object_object_get(rec, "owner_pid"));
	json_object_put(rec);
	return 0;
}

/* The task argument of task.cancel/destroy and what the store says of it. */
static int task_arg(struct engine *e, struct json_object *args, const char **task, char status[32], int64_t *owner)
{
	int r = arg_string(args, 0, "task", task);
	return r < 0 ? r : stored_task(e, *task, status, 32, owner);
}

static bool running(const char *status)
{
	return strcmp(status, "pending") == 0 || strcmp(status, "cancelling") == 0;
}

static int m_cancel(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *task;
	char status[32];
	int64_t owner;
	int r = task_arg(e, args, &task, status, &owner);
	if (r < 0)
		return r;
	*result = NULL;
	if (strcmp(status, "pending") != 0)
		return ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, task, "cancel", "task %s is %s already: it cannot be cancelled",
			    task, status);
	struct job *j = dequeue(e, task);
	if (j) {
		job_free(j);
		return task_cancelled(e, task);
	}
	struct json_object *ch = json_object_new_object();
	json_object_object_add(ch, "status", json_object_new_string("cancelling"));
	r = task_update(e, task, ch);
	json_object_put(ch);
	return r;
}

static int m_destroy(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *task;
	char status[32];
	int64_t owner;
	int r = task_arg(e, args, &task, status, &owner);
	if (r < 0)
		return r;
	*result = NULL;
	struct job *queued = running(status) ? dequeue(e, task) : NULL;
	/* A task a live process is running is that process's to finish; one
	 * left by a process that died may go. */
	if (running(status) && !queued && owner > 0 && (owner == getpid() || kill((pid_t)owner, 0) == 0))
		return ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, task, "destroy", "task %s is still running", task);
	if (queued)
		job_free(queued);
	if ((r = store_begin_write(e->store)) < 0)
		return r;
	r = rec_delete(e, &class_task, task);
	return r < 0 ? (store_rollback(e->store), r) : store_commit(e->store);
}

const struct method task_methods[] = {
	{ "task.cancel", m_cancel, 1, "Cancels a pending asynchronous call (task)" },
	{ "task.destroy", m_destroy, 1, "Forgets a finished task (task)" },
	{ NULL },
};
