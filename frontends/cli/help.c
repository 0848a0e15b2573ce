/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `xvm help`, `xvm help COMMAND` and `xvm help --all`, from the command table. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* Prints the names after sep, each followed by suffix; returns the separator for what follows. */
static const char *print_list(const char *const *list, const char *suffix, const char *sep)
{
	for (; list && *list; list++, sep = ", ")
		printf("%s%s%s", sep, *list, suffix);
	return sep;
}

static void describe(const struct cli_command *c)
{
	unsigned f = c->flags;
	printf("command name            : %s\n", c->name);
	printf("        reqd params     : ");
	print_list(c->reqd, "", "");
	printf("\n        optional params : ");
	const char *sep = print_list(c->maps, ":KEY=VALUE", print_list(c->optional, "", ""));
	const char *extra = f & CLI_CMD_FILTERS ? "FIELD=VALUE (filters)"
			  : f & CLI_CMD_ASSIGN ? "FIELD=VALUE, MAP:KEY=VALUE"
			  : f & CLI_CMD_ANY_KEY ? "KEY=VALUE" : NULL;
	if (extra)
		printf("%s%s", sep, extra);
	if (f & (CLI_CMD_FORCE | CLI_CMD_MULTIPLE | CLI_CMD_ALL))
		printf("\n        switches        :%s%s%s", f & CLI_CMD_FORCE ? " --force" : "",
		       f & CLI_CMD_MULTIPLE ? " --multiple" : "", f & CLI_CMD_ALL ? " --all" : "");
	printf("\n        description     : %s\n", c->description);
}

static void usage(void)
{
	puts("Usage: xvm [-c URI] [--minimal | --json] COMMAND [name=value ...] [map:key=value ...]\n");
	puts("Switches:");
	for (const struct cli_switch *s = cli_switches; s->name; s++)
		printf("  %-10s %s %s\n", s->name, s->kind == CLI_SWITCH_VALUE ? "VALUE" : "     ", s->help);
	puts("\nCommands (`xvm help COMMAND` describes one, `xvm help --all` every one):");
	int col = 0;
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		if (col && col + (int)strlen(c->name) + 2 > 78) {
			puts(",");
			col = 0;
		}
		col += printf("%s%s", col ? ", " : "  ", c->name);
	}
	putchar('\n');
}

int cli_check_help(struct cli_ctx *ctx)
{
	for (size_t i = 0; i < ctx->args->nwords; i++)
		if (!cli_command_lookup(ctx->args->words[i]))
			return cli_usage(ctx, "no command '%s'", ctx->args->words[i]);
	return CLI_EXIT_OK;
}

int cli_run_help(struct cli_ctx *ctx)
{
	if (ctx->args->nwords) {
		for (size_t i = 0; i < ctx->args->nwords; i++)
			describe(cli_command_lookup(ctx->args->words[i]));
	} else if (ctx->args->opts.all) {
		for (const struct cli_command *c = cli_commands; c->name; c++) {
			describe(c);
			putchar('\n');
		}
	} else {
		usage();
	}
	return CLI_EXIT_OK;
}
