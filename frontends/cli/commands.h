/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command table. Each command names the class it acts on, the
 * parameters it takes and its handler; main.c checks a command line
 * against the entry before anything connects, so usage errors never touch
 * the state.
 */
#pragma once

#include <stdbool.h>
#include <json-c/json.h>
#include <xvm/xvm.h>

#include "args.h"
#include "printer.h"

enum cli_exit { CLI_EXIT_OK = 0, CLI_EXIT_API = 1, CLI_EXIT_USAGE = 2 };

enum cli_command_flags {
	CLI_CMD_FILTERS = 1u << 0,   /* fields of the class as filters: power-state=running */
	CLI_CMD_ASSIGN = 1u << 1,    /* fields of the class as assignments: name-label=x, other-config:k=v */
	CLI_CMD_ANY_KEY = 1u << 2,   /* arbitrary key=value pairs (param-add to a map) */
	/* Acts on objects chosen by NAME=, uuid= or filters; NAME (vm) is the first optional parameter. */
	CLI_CMD_SELECT = 1u << 3,
	CLI_CMD_FORCE = 1u << 4,     /* takes --force */
	CLI_CMD_MULTIPLE = 1u << 5,  /* takes --multiple */
	CLI_CMD_WORDS = 1u << 6,     /* takes bare words (help COMMAND) */
	CLI_CMD_OFFLINE = 1u << 7,   /* needs no connection */
	CLI_CMD_ALL = 1u << 8,       /* takes --all */
};

struct cli_ctx;

struct cli_command {
	const char *name;
	const char *cls;              /* the class acted on; NULL for help */
	const char *const *reqd;      /* NULL-terminated parameter names */
	const char *const *optional;
	unsigned flags;
	const char *default_params;   /* list commands: fields shown without params= */
	const char *default_filter;   /* name=value,... each applied unless the user filters on that name */
	const char *description;
	/* Static checks of the parameters' values (no connection); returns a cli_exit. */
	int (*check)(struct cli_ctx *ctx);
	int (*run)(struct cli_ctx *ctx);
	const void *data;             /* per-command data for a shared handler */
	const char *const *maps;      /* map parameters given as NAME:KEY=VALUE (device-config); may be NULL */
};

/* NULL-name terminated. */
extern const struct cli_command cli_commands[];
const struct cli_command *cli_command_lookup(const char *name);

/* A field=value filter, compiled from the command line. */
struct cli_filter {
	const struct xvm_field_info *field;
	const char *key;       /* map key, or NULL */
	char *text;            /* the value as printed; compared with the record's */
};

struct cli_ctx {
	const struct cli_command *cmd;
	const struct cli_args *args;
	const struct xvm_class_info *cls;
	enum cli_format fmt;
	xvm_conn *conn;
	struct cli_refcache *refs;
	struct cli_filter *filters;
	size_t nfilters;
};

/* Whether a name is one of the command's own parameters (reqd or optional). */
bool cli_command_has_param(const struct cli_command *cmd, const char *name);

/* Whether a name is one of the command's map parameters (device-config:KEY=VALUE). */
bool cli_command_has_map(const struct cli_command *cmd, const char *name);

/* A CLI_CMD_SELECT command's NAME-or-UUID selector: "vm" for VM commands. */
const char *cli_command_selector(const struct cli_command *cmd);

/*
 * check.c: fills ctx->fmt, ctx->cls and ctx->filters from ctx->cmd and
 * ctx->args and runs every check that needs no connection. Returns a cli_exit.
 */
int cli_prepare(struct cli_ctx *ctx);

/* complete.c: `xvm --complete CWORD WORDS...` with argv = CWORD WORDS...; prints candidates. */
int cli_complete(int argc, char **argv);

/* --- report.c ------------------------------------------------------------ */

/* Prints "Error: ..." and a hint to `xvm help COMMAND`; returns CLI_EXIT_USAGE. */
int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints xvm_last_error() (code, message, parameters); returns CLI_EXIT_API. */
int cli_api_error(void);
/* Prints "Error: ..." for a failure found at run time; returns CLI_EXIT_API. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- handlers ------------------------------------------------------------ */

int cli_run_help(struct cli_ctx *ctx);
int cli_check_help(struct cli_ctx *ctx);

int cli_run_list(struct cli_ctx *ctx);
/* cli_run_list showing only the objects keep() accepts. */
int cli_list_where(struct cli_ctx *ctx, bool (*keep)(const char *ref, void *data), void *data);
/* Prints the UUID of a new object (create commands, as xe does). */
int cli_print_uuid_of(struct cli_ctx *ctx, const char *cls, const char *ref);
int cli_check_list(struct cli_ctx *ctx);
int cli_run_param_list(struct cli_ctx *ctx);
int cli_run_param_get(struct cli_ctx *ctx);
int cli_check_param_get(struct cli_ctx *ctx);
int cli_run_param_set(struct cli_ctx *ctx);
int cli_check_param_set(struct cli_ctx *ctx);
int cli_run_param_add(struct cli_ctx *ctx);
int cli_check_param_add(struct cli_ctx *ctx);
int cli_run_param_remove(struct cli_ctx *ctx);
int cli_check_param_remove(struct cli_ctx *ctx);
int cli_run_param_clear(struct cli_ctx *ctx);
int cli_check_param_clear(struct cli_ctx *ctx);

int cli_check_vm_install(struct cli_ctx *ctx);
int cli_run_vm_install(struct cli_ctx *ctx);
int cli_run_vm_clone(struct cli_ctx *ctx);
int cli_run_template_uninstall(struct cli_ctx *ctx);
int cli_run_template_build(struct cli_ctx *ctx);
int cli_run_vm_uninstall(struct cli_ctx *ctx);
int cli_run_vm_power(struct cli_ctx *ctx);
int cli_check_vm_paused(struct cli_ctx *ctx);

/* Data of the commands run by cli_run_vm_power: the operation on one VM reference. */
struct cli_vm_op {
	int (*op)(struct cli_ctx *ctx, const char *vm);
};
extern const struct cli_vm_op cli_vm_start, cli_vm_shutdown, cli_vm_reboot, cli_vm_pause,
	cli_vm_unpause, cli_vm_suspend, cli_vm_resume, cli_vm_simulate_guest, cli_vm_vcpu_hotplug,
	cli_vm_memory_target;
int cli_check_vm_vcpu_hotplug(struct cli_ctx *ctx);
int cli_check_vm_memory_target(struct cli_ctx *ctx);
int cli_run_console(struct cli_ctx *ctx);

int cli_check_export(struct cli_ctx *ctx);
int cli_run_vm_export(struct cli_ctx *ctx);
int cli_run_template_export(struct cli_ctx *ctx);
int cli_check_import(struct cli_ctx *ctx);
int cli_run_vm_import(struct cli_ctx *ctx);
int cli_run_token_create(struct cli_ctx *ctx);
int cli_run_token_list(struct cli_ctx *ctx);
int cli_run_token_destroy(struct cli_ctx *ctx);

/* --- commands_storage.c: SR, PBD, VDI, VBD ------------------------------------ */

/* Calls a method (taking args), printing its error; *result may be NULL for none. Returns a cli_exit. */
int cli_call(struct cli_ctx *ctx, const char *method, struct json_object *args, struct json_object **result);
/* A call whose result is a reference (free() *ref). */
int cli_call_ref(struct cli_ctx *ctx, const char *method, struct json_object *args, char **ref);
/* Undoes a step after a failure already reported: method(ref), its own error unreported. */
void cli_call_quietly(struct cli_ctx *ctx, const char *method, const char *ref);
/* A JSON array of the strings up to NULL. */
struct json_object *cli_args_of(const char *first, ...);
/* A VDI.create record for sr, with name-description=, sm-config:, type= and sharable= of the command line. */
struct json_object *cli_vdi_record(struct cli_ctx *ctx, const char *sr, const char *name_label);
/* VDI.create in sr, with name-description=, sm-config:, type= and sharable= of the command line. */
int cli_new_vdi(struct cli_ctx *ctx, const char *sr, const char *name_label, int64_t size, char **ref);
/* VBD.create at device= (autodetect when not given). */
int cli_new_vbd(struct cli_ctx *ctx, const char *vm, const char *vdi, const char *type, const char *mode,
		bool bootable, char **ref);

int cli_run_on_uuid(struct cli_ctx *ctx);
/* Calls a method that makes an object and prints the new object's UUID. */
int cli_create_and_print(struct cli_ctx *ctx, const char *method, struct json_object *args, const char *cls);
int cli_run_network_create(struct cli_ctx *ctx);
int cli_run_vif_create(struct cli_ctx *ctx);
int cli_run_vm_vif_list(struct cli_ctx *ctx);
int cli_run_sr_create(struct cli_ctx *ctx);
int cli_run_sr_introduce(struct cli_ctx *ctx);
int cli_run_pbd_create(struct cli_ctx *ctx);
int cli_run_vdi_create(struct cli_ctx *ctx);
int cli_run_vdi_resize(struct cli_ctx *ctx);
int cli_run_vdi_clone(struct cli_ctx *ctx);
int cli_run_vdi_copy(struct cli_ctx *ctx);
int cli_check_vdi_import(struct cli_ctx *ctx);
int cli_run_vdi_import(struct cli_ctx *ctx);
int cli_run_vdi_export(struct cli_ctx *ctx);
int cli_run_vbd_create(struct cli_ctx *ctx);
int cli_run_vbd_insert(struct cli_ctx *ctx);

/* --- commands_vtpm.c: vTPMs ----------------------------------------------------- */

int cli_run_vtpm_create(struct cli_ctx *ctx);

/* --- commands_vm_disks.c: a VM's disks and CD drives ---------------------------- */

int cli_run_vm_disk_add(struct cli_ctx *ctx);
int cli_run_vm_disk_list(struct cli_ctx *ctx);
int cli_run_vm_disk_remove(struct cli_ctx *ctx);
int cli_run_cd_list(struct cli_ctx *ctx);
int cli_run_vm_cd_add(struct cli_ctx *ctx);
int cli_run_vm_cd_insert(struct cli_ctx *ctx);
int cli_run_vm_cd_eject(struct cli_ctx *ctx);
int cli_check_vm_cd_remove(struct cli_ctx *ctx);
int cli_run_vm_cd_remove(struct cli_ctx *ctx);
int cli_run_vm_cd_list(struct cli_ctx *ctx);

/* --- commands_snapshot.c: VM snapshots ------------------------------------------ */

/* vm-snapshot, vm-checkpoint: data is the method. */
int cli_run_vm_snapshot(struct cli_ctx *ctx);
/* snapshot-revert, snapshot-destroy: data is the method, called on snapshot-uuid= (or uuid=). */
int cli_run_snapshot_call(struct cli_ctx *ctx);
int cli_run_snapshot_export_to_template(struct cli_ctx *ctx);
