/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The task class: an operation in flight, or the outcome of an async one. */
#include "objects/class.h"

#include <string.h>

#include "lifecycle/inflight.h"
#include "objects/registry.h"

static const char *const task_operations[] = { "cancel", "destroy", NULL };
static const char *const task_status[] = { "pending", "success", "failure", "cancelling", "cancelled", NULL };

static const struct field_def task_fields[] = {
	UUID_FIELD,
	NAME_FIELDS,
	{ ALLOWED_OPS(task_operations) },
	{ CURRENT_OPS },
	{ TIME("created", Q_RO, "When the task was created") },
	{ TIME("finished", Q_RO, "When the task finished") },
	{ ENUM("status", task_status, Q_RO, "pending, success, failure, cancelling, cancelled"),
	  .default_json = "\"pending\"" },
	{ REF("resident_on", "host", Q_RO, "The host running the task") },
	{ FLOAT("progress", Q_RO, "Progress from 0 to 1") },
	{ STR("type", Q_RO, "Type of the result") },
	{ STR("result", Q_RO, "The result, when it succeeded") },
	{ SET_STR("error_info", Q_RO, "The error code and parameters, when it failed") },
	OTHER_CONFIG,
	{ REF("subtask_of", "task", Q_RO, "The task this is part of") },
	{ REVERSE("subtasks", "task", "subtask_of", "Parts of this task") },
	{ INT("owner_pid", Q_RO, "xvm: the process running the task") },
	FIELDS_END
};

static void task_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec);

/* Operations in flight show as pending tasks. */
static int task_inflight_records(struct engine *e, struct json_object **ret)
{
	struct json_object *by_object, *tasks;
	int r = inflight_read(e, &by_object, &tasks);
	if (r < 0)
		return r;
	json_object_put(by_object);
	/* Give them every field, as stored tasks have. */
	json_object_object_foreach(tasks, ref, rec) {
		(void)ref;
		for (const struct field_def *f = class_task.fields; f->info.name; f++)
			if (!json_object_object_get_ex(rec, f->info.name, NULL))
				json_object_object_add(rec, f->info.name, field_default(f));
		task_compute(e, NULL, ref, rec);
	}
	*ret = tasks;
	return 0;
}

static void task_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec)
{
	struct json_object *ops = json_object_new_array(), *st;
	if (json_object_object_get_ex(rec, "status", &st) &&
	    strcmp(json_object_get_string(st), "pending") == 0)
		json_object_array_add(ops, json_object_new_string("cancel"));
	json_object_object_add(rec, "allowed_operations", ops);
}

const struct class_def class_task = {
	.info = { .name = "task", .description = "An operation and its outcome" },
	.fields = task_fields,
	.compute = task_compute,
	.virtual_records = task_inflight_records,
};
