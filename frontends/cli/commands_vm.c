/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM commands: install, uninstall, the power operations and the guest test hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "convert.h"
#include "params.h"
#include "refcache.h"
#include "select.h"

int cli_check_vm_install(struct cli_ctx *ctx)
{
	const struct cli_param *p = cli_args_get(ctx->args, "copy");
	bool copy;
	if (p && cli_parse_bool(p->value, &copy) < 0)
		return cli_usage(ctx, "copy= takes true or false, not '%s'", p->value);
	return CLI_EXIT_OK;
}

int cli_run_vm_install(struct cli_ctx *ctx)
{
	char *ref;
	unsigned flags = cli_param_bool(ctx, "copy", false) ? XVM_VM_INSTALL_COPY : 0;
	if (xvm_vm_install_with(ctx->conn, cli_args_get(ctx->args, "template")->value,
				cli_args_get(ctx->args, "new-name-label")->value, cli_param_text(ctx, "sr-uuid", NULL),
				flags, &ref) < 0)
		return cli_api_error();
	int r = cli_print_uuid_of(ctx, "VM", ref);
	free(ref);
	return r;
}

/* vm-clone and vm-copy: the selected VM, copied under new-name-label. */
int cli_run_vm_clone(struct cli_ctx *ctx)
{
	struct json_object *refs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	const char *vm = json_object_get_string(json_object_array_get_idx(refs, 0));
	const char *name = cli_args_get(ctx->args, "new-name-label")->value;
	char *ref = NULL;
	if ((ctx->cmd->data ? xvm_vm_copy(ctx->conn, vm, name, cli_param_text(ctx, "sr-uuid", NULL), &ref)
			    : xvm_vm_clone(ctx->conn, vm, name, &ref)) < 0)
		r = cli_api_error();
	else
		r = cli_print_uuid_of(ctx, "VM", ref);
	free(ref);
	json_object_put(refs);
	return r;
}

int cli_run_template_uninstall(struct cli_ctx *ctx)
{
	char *ref;
	int r = cli_lookup_uuid(ctx, "VM", "template-uuid", &ref);
	if (r)
		return r;
	r = xvm_vm_uninstall(ctx->conn, ref) < 0 ? cli_api_error() : CLI_EXIT_OK;
	free(ref);
	return r;
}

/* xe asks before destroying, but only a person at a terminal can answer. */
static bool confirmed(size_t n)
{
	char line[16];
	fprintf(stderr, "This will destroy %zu VM(s) and the disks they own. Type 'yes' to continue: ", n);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, "yes") == 0 || strcmp(line, "y") == 0;
}

/* Runs op on each selected VM, reporting every failure. */
static int for_each_vm(struct cli_ctx *ctx, struct json_object *refs,
		       int (*op)(struct cli_ctx *ctx, const char *vm))
{
	int r = CLI_EXIT_OK;
	size_t n = json_object_array_length(refs);
	for (size_t i = 0; i < n; i++)
		if (op(ctx, json_object_get_string(json_object_array_get_idx(refs, i))) < 0)
			r = cli_api_error();
	return r;
}

static int op_uninstall(struct cli_ctx *ctx, const char *vm) { return xvm_vm_uninstall(ctx->conn, vm); }

int cli_run_vm_uninstall(struct cli_ctx *ctx)
{
	struct json_object *refs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	if (!ctx->args->opts.force && isatty(STDIN_FILENO) && !confirmed(json_object_array_length(refs)))
		r = cli_fail("not confirmed; nothing was changed");
	else
		r = for_each_vm(ctx, refs, op_uninstall);
	json_object_put(refs);
	return r;
}

/* paused=true|false; the checks ran before connecting, so this cannot fail then. */
static unsigned start_flags(const struct cli_ctx *ctx)
{
	const struct cli_param *p = cli_args_get(ctx->args, "paused");
	bool paused = false;
	if (p)
		cli_parse_bool(p->value, &paused);
	return (paused ? XVM_VM_START_PAUSED : 0) | (ctx->args->opts.force ? XVM_VM_START_FORCE : 0);
}

int cli_check_vm_paused(struct cli_ctx *ctx)
{
	const struct cli_param *p = cli_args_get(ctx->args, "paused");
	bool paused;
	if (p && cli_parse_bool(p->value, &paused) < 0)
		return cli_usage(ctx, "paused= takes true or false, not '%s'", p->value);
	return CLI_EXIT_OK;
}

static int op_start(struct cli_ctx *ctx, const char *vm)
{
	return xvm_vm_start(ctx->conn, vm, start_flags(ctx));
}

static int op_shutdown(struct cli_ctx *ctx, const char *vm)
{
	return ctx->args->opts.force ? xvm_vm_hard_shutdown(ctx->conn, vm) : xvm_vm_clean_shutdown(ctx->conn, vm);
}

static int op_reboot(struct cli_ctx *ctx, const char *vm)
{
	return ctx->args->opts.force ? xvm_vm_hard_reboot(ctx->conn, vm) : xvm_vm_clean_reboot(ctx->conn, vm);
}

static int op_pause(struct cli_ctx *ctx, const char *vm) { return xvm_vm_pause(ctx->conn, vm); }
static int op_unpause(struct cli_ctx *ctx, const char *vm) { return xvm_vm_unpause(ctx->conn, vm); }
static int op_suspend(struct cli_ctx *ctx, const char *vm) { return xvm_vm_suspend(ctx->conn, vm); }

static int op_resume(struct cli_ctx *ctx, const char *vm)
{
	/* resume has no force flag in XenAPI; --force is only offered on start. */
	return xvm_vm_resume(ctx->conn, vm, start_flags(ctx) & XVM_VM_START_PAUSED);
}

static int op_simulate(struct cli_ctx *ctx, const char *vm)
{
	return xvm_vm_simulate_guest_action(ctx->conn, vm, cli_args_get(ctx->args, "action")->value);
}

/* new-vcpus=N */
int cli_check_vm_vcpu_hotplug(struct cli_ctx *ctx)
{
	int64_t n;
	const char *text = cli_args_get(ctx->args, "new-vcpus")->value;
	char *end;
	n = strtoll(text, &end, 10);
	if (!*text || *end || n < 1)
		return cli_usage(ctx, "new-vcpus= takes a positive number, not '%s'", text);
	return CLI_EXIT_OK;
}

static int op_vcpu_hotplug(struct cli_ctx *ctx, const char *vm)
{
	return xvm_vm_set_vcpus_live(ctx->conn, vm, strtoll(cli_args_get(ctx->args, "new-vcpus")->value, NULL, 10));
}

/* target=SIZE, with memory units */
int cli_check_vm_memory_target(struct cli_ctx *ctx)
{
	int64_t bytes;
	const char *text = cli_args_get(ctx->args, "target")->value;
	if (cli_parse_memory(text, &bytes) < 0)
		return cli_usage(ctx, "target= takes a size such as 512MiB or 2GiB, not '%s'", text);
	return CLI_EXIT_OK;
}

static int op_memory_target(struct cli_ctx *ctx, const char *vm)
{
	int64_t bytes = 0;
	cli_parse_memory(cli_args_get(ctx->args, "target")->value, &bytes);
	return xvm_vm_set_memory_target_live(ctx->conn, vm, bytes);
}

const struct cli_vm_op cli_vm_start = { op_start }, cli_vm_shutdown = { op_shutdown },
	cli_vm_reboot = { op_reboot }, cli_vm_pause = { op_pause }, cli_vm_unpause = { op_unpause },
	cli_vm_suspend = { op_suspend }, cli_vm_resume = { op_resume },
	cli_vm_simulate_guest = { op_simulate }, cli_vm_vcpu_hotplug = { op_vcpu_hotplug },
	cli_vm_memory_target = { op_memory_target };

int cli_run_vm_power(struct cli_ctx *ctx)
{
	const struct cli_vm_op *op = ctx->cmd->data;
	struct json_object *refs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	r = for_each_vm(ctx, refs, op->op);
	json_object_put(refs);
	return r;
}
