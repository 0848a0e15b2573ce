/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm-export, template-export and vm-import: VM.export_to_file and
 * VM.import_from_file. These are long copies: while the call runs, a thread
 * polls the operation's task (its progress, 0..1) and draws a bar on stderr
 * when stderr is a terminal. Tasks are read through the API, so the bar works
 * on local and remote connections alike.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "convert.h"
#include "params.h"
#include "select.h"

#define BAR_WIDTH 40

struct progress_bar {
	xvm_conn *conn;
	const char *vm;          /* the VM exported: its operation's task; NULL: by name */
	const char *task_name;   /* "VM.export", "VM.import" */
	const char *title;
	atomic_bool stop;
	bool drawn;
};

/* The progress of the VM's export, or -1. */
static double vm_op_progress(xvm_conn *conn, const char *vm, const char *op)
{
	struct json_object *ops = NULL, *args = json_object_new_array(), *p = NULL;
	json_object_array_add(args, json_object_new_string(vm));
	int r = xvm_call(conn, "VM.get_current_operations", args, &ops);
	json_object_put(args);
	double out = -1;
	if (r < 0 || !json_object_is_type(ops, json_type_object)) {
		json_object_put(ops);
		return -1;
	}
	json_object_object_foreach(ops, task, name) {
		if (strcmp(json_object_get_string(name), op) != 0)
			continue;
		args = json_object_new_array();
		json_object_array_add(args, json_object_new_string(task));
		if (xvm_call(conn, "task.get_progress", args, &p) == 0)
			out = json_object_get_double(p);
		json_object_put(args);
		json_object_put(p);
		break;
	}
	json_object_put(ops);
	return out;
}

/* The progress of the pending task of that name (the first one), or -1. */
static double task_progress(xvm_conn *conn, const char *name)
{
	struct json_object *all = NULL, *v;
	double p = -1;
	if (xvm_call(conn, "task.get_all_records", json_object_new_array(), &all) < 0)
		return -1;
	json_object_object_foreach(all, ref, rec) {
		(void)ref;
		if (json_object_object_get_ex(rec, "name_label", &v) && strcmp(json_object_get_string(v), name) == 0 &&
		    json_object_object_get_ex(rec, "status", &v) && strcmp(json_object_get_string(v), "pending") == 0 &&
		    json_object_object_get_ex(rec, "progress", &v)) {
			p = json_object_get_double(v);
			break;
		}
	}
	json_object_put(all);
	return p;
}

static void draw(struct progress_bar *b, double p)
{
	int filled = (int)(p * BAR_WIDTH + 0.5);
	char bar[BAR_WIDTH + 1];
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = 0;
	fprintf(stderr, "\r%s [%s] %3d%%", b->title, bar, (int)(p * 100 + 0.5));
	fflush(stderr);
	b->drawn = true;
}

static void *bar_thread(void *data)
{
	struct progress_bar *b = data;
	const struct timespec tick = { 0, 250 * 1000 * 1000 };
	while (!atomic_load(&b->stop)) {
		double p = b->vm ? vm_op_progress(b->conn, b->vm, "export") : task_progress(b->conn, b->task_name);
		if (p >= 0)
			draw(b, p);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* method(args) with a progress bar; prints the error, if any. *result may be NULL. */
static int call_with_bar(struct cli_ctx *ctx, const char *method, const char *vm, const char *task_name,
			 const char *title, struct json_object *args, struct json_object **result)
{
	struct progress_bar b = { .conn = ctx->conn, .vm = vm, .task_name = task_name, .title = title };
	pthread_t t;
	atomic_init(&b.stop, false);
	bool bar = isatty(STDERR_FILENO) && pthread_create(&t, NULL, bar_thread, &b) == 0;
	struct json_object *res = NULL;
	int r = xvm_call(ctx->conn, method, args, &res);
	json_object_put(args);
	if (bar) {
		atomic_store(&b.stop, true);
		pthread_join(t, NULL);
		if (b.drawn) {
			if (r == 0)
				draw(&b, 1);
			fputc('\n', stderr);
		}
	}
	if (r < 0)
		return cli_api_error();
	if (result)
		*result = res;
	else
		json_object_put(res);
	return CLI_EXIT_OK;
}

static int check_bool(struct cli_ctx *ctx, const char *name)
{
	const char *text = cli_param_text(ctx, name, "false");
	bool v;
	if (cli_parse_bool(text, &v) < 0)
		return cli_usage(ctx, "%s= takes true or false, not '%s'", name, text);
	return CLI_EXIT_OK;
}

int cli_check_export(struct cli_ctx *ctx)
{
	int r = check_bool(ctx, "compress");
	return r ? r : check_bool(ctx, "without-vtpm");
}

static int export_ref(struct cli_ctx *ctx, const char *ref)
{
	struct json_object *options = json_object_new_object(), *args = json_object_new_array();
	json_object_object_add(options, "compress", json_object_new_string(cli_param_text(ctx, "compress", "false")));
	json_object_object_add(options, "without_vtpm",
			       json_object_new_string(cli_param_text(ctx, "without-vtpm", "false")));
	json_object_array_add(args, json_object_new_string(ref));
	json_object_array_add(args, json_object_new_string(cli_param_text(ctx, "filename", "")));
	json_object_array_add(args, options);
	return call_with_bar(ctx, "VM.export_to_file", ref, NULL, "Exporting", args, NULL);
}

int cli_run_vm_export(struct cli_ctx *ctx)
{
	struct json_object *refs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	r = export_ref(ctx, json_object_get_string(json_object_array_get_idx(refs, 0)));
	json_object_put(refs);
	return r;
}

int cli_run_template_export(struct cli_ctx *ctx)
{
	char *ref;
	int r = cli_lookup_uuid(ctx, "VM", "template-uuid", &ref);
	if (r)
		return r;
	r = export_ref(ctx, ref);
	free(ref);
	return r;
}

int cli_check_import(struct cli_ctx *ctx)
{
	return check_bool(ctx, "preserve");
}

int cli_run_vm_import(struct cli_ctx *ctx)
{
	char *sr = NULL;
	int r;
	if (cli_args_get(ctx->args, "sr-uuid") && (r = cli_lookup_uuid(ctx, "SR", "sr-uuid", &sr)))
		return r;
	struct json_object *options = json_object_new_object(), *args = json_object_new_array(), *vms = NULL;
	json_object_object_add(options, "preserve", json_object_new_string(cli_param_text(ctx, "preserve", "false")));
	json_object_array_add(args, json_object_new_string(cli_param_text(ctx, "filename", "")));
	json_object_array_add(args, json_object_new_string(sr ? sr : "OpaqueRef:NULL"));
	json_object_array_add(args, options);
	free(sr);
	if ((r = call_with_bar(ctx, "VM.import_from_file", NULL, "VM.import", "Importing", args, &vms)))
		return r;
	for (size_t i = 0; r == CLI_EXIT_OK && i < json_object_array_length(vms); i++)
		r = cli_print_uuid_of(ctx, "VM", json_object_get_string(json_object_array_get_idx(vms, i)));
	json_object_put(vms);
	return r;
}
