/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every command of `xvm`, in the order `help` lists them. */
#include "commands.h"

#include <string.h>

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

#define SELECT_FLAGS (CLI_CMD_SELECT | CLI_CMD_FILTERS | CLI_CMD_MULTIPLE)
#define NOT_TEMPLATES "is-a-template=false"

/* The same six param commands for every class: param-list/get/set/add/remove/clear. */
#define PARAM_COMMANDS(prefix, cls, what)                                                         \
	{ prefix "-param-list", cls, P("uuid"), NONE, 0, NULL, NULL,                              \
	  "List every parameter of " what ".", NULL, cli_run_param_list, NULL },                  \
	{ prefix "-param-get", cls, P("uuid", "param-name"), P("param-key"), 0, NULL, NULL,       \
	  "Print one parameter of " what " (one key of a map with param-key).",                   \
	  cli_check_param_get, cli_run_param_get, NULL },                                         \
	{ prefix "-param-set", cls, P("uuid"), NONE, CLI_CMD_ASSIGN, NULL, NULL,                  \
	  "Set parameters of " what ": FIELD=VALUE or MAP:KEY=VALUE, several at once.",           \
	  cli_check_param_set, cli_run_param_set, NULL },                                         \
	{ prefix "-param-add", cls, P("uuid", "param-name"), P("param-key"), CLI_CMD_ANY_KEY,     \
	  NULL, NULL,                                                                             \
	  "Add KEY=VALUE pairs to a map parameter of " what ", or param-key=ELEMENT to a set.",   \
	  cli_check_param_add, cli_run_param_add, NULL },                                         \
	{ prefix "-param-remove", cls, P("uuid", "param-name", "param-key"), NONE, 0, NULL, NULL, \
	  "Remove a key from a map parameter, or an element from a set parameter, of " what ".",  \
	  cli_check_param_remove, cli_run_param_remove, NULL },                                   \
	{ prefix "-param-clear", cls, P("uuid", "param-name"), NONE, 0, NULL, NULL,               \
	  "Empty a map or set parameter of " what ", or set a text parameter to \"\".",           \
	  cli_check_param_clear, cli_run_param_clear, NULL }

#define LIST_COMMAND(name, cls, params, filter, what)                                      \
	{ name, cls, NONE, P("params"), CLI_CMD_FILTERS, params, filter,                   \
	  "List " what ", showing params=a,b (or all); FIELD=VALUE filters narrow the list.", \
	  cli_check_list, cli_run_list, NULL }

const struct cli_command cli_commands[] = {
	{ "help", NULL, NONE, NONE, CLI_CMD_WORDS | CLI_CMD_ALL | CLI_CMD_OFFLINE, NULL, NULL,
	  "List the commands; `help COMMAND` describes one, `help --all` every one.",
	  cli_check_help, cli_run_help, NULL },

	{ "vm-install", "VM", P("template", "new-name-label"), NONE, 0, NULL, NULL,
	  "Install a new VM from a template (name-label or UUID); prints the new VM's UUID.",
	  NULL, cli_run_vm_install, NULL },
	{ "vm-uninstall", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Destroy the selected VM(s) and the disks they own, shutting them down hard if needed. "
	  "Asks first when run from a terminal, unless --force.",
	  NULL, cli_run_vm_uninstall, NULL },
	LIST_COMMAND("vm-list", "VM", "uuid,name-label,power-state", NOT_TEMPLATES, "the VMs (not templates)"),
	{ "vm-start", "VM", NONE, P("vm", "uuid", "paused"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Start the selected VM(s); paused=true leaves them Paused; --force skips soft checks.",
	  cli_check_vm_paused, cli_run_vm_power, &cli_vm_start },
	{ "vm-shutdown", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Shut down the selected VM(s): ask the guest, or power off at once with --force.",
	  NULL, cli_run_vm_power, &cli_vm_shutdown },
	{ "vm-reboot", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS | CLI_CMD_FORCE, NULL, NOT_TEMPLATES,
	  "Reboot the selected VM(s): ask the guest, or reset at once with --force.",
	  NULL, cli_run_vm_power, &cli_vm_reboot },
	{ "vm-pause", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Pause the selected running VM(s).", NULL, cli_run_vm_power, &cli_vm_pause },
	{ "vm-unpause", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Unpause the selected paused VM(s).", NULL, cli_run_vm_power, &cli_vm_unpause },
	{ "vm-suspend", "VM", NONE, P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Suspend the selected running VM(s) to disk.", NULL, cli_run_vm_power, &cli_vm_suspend },
	{ "vm-resume", "VM", NONE, P("vm", "uuid", "paused"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Resume the selected suspended VM(s); paused=true leaves them Paused.",
	  cli_check_vm_paused, cli_run_vm_power, &cli_vm_resume },
	{ "vm-simulate-guest", "VM", P("action"), P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Test hook: make the guest of the selected running VM(s) poweroff, reboot or crash "
	  "on its own; the VM then follows actions-after-shutdown/reboot/crash.",
	  NULL, cli_run_vm_power, &cli_vm_simulate_guest },
	{ "vm-vcpu-hotplug", "VM", P("new-vcpus"), P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Set the number of vCPUs of the selected running VM(s), up to VCPUs-max.",
	  cli_check_vm_vcpu_hotplug, cli_run_vm_power, &cli_vm_vcpu_hotplug },
	{ "vm-memory-target-set", "VM", P("target"), P("vm", "uuid"), SELECT_FLAGS, NULL, NOT_TEMPLATES,
	  "Set the memory of the selected running VM(s) through the balloon, e.g. target=512MiB.",
	  cli_check_vm_memory_target, cli_run_vm_power, &cli_vm_memory_target },
	{ "console", "VM", NONE, P("vm", "uuid"), CLI_CMD_SELECT | CLI_CMD_FILTERS, NULL, NOT_TEMPLATES,
	  "Attach to the text console of a running VM (Ctrl-] detaches). Without a terminal, "
	  "print the current boot's output and follow it until the VM stops.",
	  NULL, cli_run_console, NULL },
	PARAM_COMMANDS("vm", "VM", "a VM"),

	LIST_COMMAND("template-list", "VM", "uuid,name-label,name-description", "is-a-template=true",
		     "the templates"),
	LIST_COMMAND("host-list", "host", "uuid,name-label,name-description", NULL, "the hosts"),
	PARAM_COMMANDS("host", "host", "a host"),
	LIST_COMMAND("pool-list", "pool", "uuid,name-label,name-description,master", NULL, "the pools"),
	PARAM_COMMANDS("pool", "pool", "a pool"),
	LIST_COMMAND("sr-list", "SR", "uuid,name-label,name-description,type,content-type", NULL,
		     "the storage repositories"),
	PARAM_COMMANDS("sr", "SR", "a storage repository"),
	LIST_COMMAND("console-list", "console", "uuid,VM,protocol,location", NULL, "the consoles of running VMs"),
	PARAM_COMMANDS("console", "console", "a console"),
	LIST_COMMAND("task-list", "task", "uuid,name-label,name-description,status,progress", NULL,
		     "the tasks"),
	PARAM_COMMANDS("task", "task", "a task"),

	{ "token-create", NULL, P("user"), P("name-label"), 0, NULL, NULL,
	  "Create an API token for USER, to pass as the password when logging in to xvmd; "
	  "prints the secret, which is shown only once.",
	  NULL, cli_run_token_create, NULL },
	{ "token-list", NULL, NONE, NONE, 0, NULL, NULL, "List the API tokens (not their secrets).",
	  NULL, cli_run_token_list, NULL },
	{ "token-destroy", NULL, P("uuid"), NONE, 0, NULL, NULL, "Revoke an API token.",
	  NULL, cli_run_token_destroy, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL }
};

const struct cli_command *cli_command_lookup(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

bool cli_command_has_param(const struct cli_command *cmd, const char *name)
{
	return in_list(cmd->reqd, name) || in_list(cmd->optional, name);
}

const char *cli_command_selector(const struct cli_command *cmd)
{
	return cmd->optional[0];
}
