/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command table against the class metadata, and the checks that run
 * before any connection: each bad command line is a usage error (exit 2).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "commands.h"
#include "convert.h"
#include "select.h"

Test(commands, table_matches_the_metadata)
{
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		cr_assert_not_null(c->run, "%s", c->name);
		cr_assert_not_null(c->description, "%s", c->name);
		if (!c->cls)
			continue;
		const struct xvm_class_info *cls = xvm_class_lookup(c->cls);
		cr_assert_not_null(cls, "%s: no class %s", c->name, c->cls);
		if (c->default_params) {
			char *copy = strdup(c->default_params), *save;
			for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save))
				cr_assert_not_null(cli_field_lookup(cls, n), "%s: default param %s", c->name, n);
			free(copy);
		}
		if (c->default_filter) {
			char name[64];
			sscanf(c->default_filter, "%63[^=]", name);
			cr_assert_not_null(cli_field_lookup(cls, name), "%s: filter %s", c->name, name);
		}
		if (c->flags & CLI_CMD_SELECT)
			cr_assert_not_null(cli_command_selector(c), "%s", c->name);
		/* A map parameter is given only as NAME:KEY=VALUE, never also as NAME=. */
		for (const char *const *m = c->maps; m && *m; m++)
			cr_assert(!cli_command_has_param(c, *m), "%s: %s is a map and a plain parameter", c->name, *m);
		cr_assert_eq(cli_command_lookup(c->name), c);
	}
}

/* cli_prepare on a command line: the exit code it gives. */
static int prepare(char **words)
{
	int n = 0;
	while (words[n])
		n++;
	struct cli_args a;
	char err[256];
	cr_assert_eq(cli_args_parse(n, words, &a, err, sizeof(err)), 0, "%s", err);
	struct cli_ctx ctx = { .cmd = cli_command_lookup(a.command), .args = &a };
	cr_assert_not_null(ctx.cmd, "%s", a.command);
	int r = cli_prepare(&ctx);
	cli_filters_clear(&ctx);
	cli_args_clear(&a);
	return r;
}

#define PREPARE(...) prepare((char *[]){ "xvm", __VA_ARGS__, NULL })

Test(commands, good_command_lines_pass, .init = cr_redirect_stderr)
{
	cr_assert_eq(PREPARE("vm-list"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-list", "params=all", "power-state=RUNNING", "other-config:k=v"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-start", "vm=web", "paused=true", "--force"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-shutdown", "power-state=running", "--multiple"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-param-set", "uuid=u", "name-label=x", "memory-static-max=2GiB",
			     "other-config:k=v", "tags=a,b"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-param-add", "uuid=u", "param-name=other-config", "a=1", "b=2"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-param-add", "uuid=u", "param-name=tags", "param-key=t"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-param-get", "uuid=u", "param-name=other-config", "param-key=k"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-param-clear", "uuid=u", "param-name=name-description"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("help", "vm-start"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("sr-create", "name-label=s", "type=file", "shared=false", "device-config:location=/d",
			     "sm-config:a=b"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vdi-create", "sr-uuid=s", "name-label=d", "virtual-size=10GiB", "sm-config:type=raw"),
		     CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vbd-create", "vm-uuid=v", "type=cd", "mode=ro", "bootable=TRUE"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vdi-import", "sr-uuid=s", "filename=f", "virtual-size=1048576"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-disk-add", "vm=web", "disk-size=512MiB", "device=1"), CLI_EXIT_OK);
	cr_assert_eq(PREPARE("vm-cd-remove", "vm=web", "device=3"), CLI_EXIT_OK);
}

Test(commands, usage_errors, .init = cr_redirect_stderr)
{
	static char *const bad[][6] = {
		{ "xvm", "vm-install", "template=x", NULL },                        /* missing new-name-label */
		{ "xvm", "vm-install", "template=x", "new-name-label=y", "colour=red", NULL },
		{ "xvm", "vm-list", "colour=red", NULL },                           /* no such field */
		{ "xvm", "vm-list", "params=uuid,colour", NULL },
		{ "xvm", "vm-list", "power-state=sleeping", NULL },                 /* bad enum */
		{ "xvm", "vm-list", "name-label:k=v", NULL },                       /* key on a non-map */
		{ "xvm", "vm-list", "--force", NULL },                              /* switch not taken */
		{ "xvm", "vm-list", "--minimal", "--json", NULL },
		{ "xvm", "vm-start", NULL },                                        /* no selection */
		{ "xvm", "vm-start", "vm=a", "uuid=b", NULL },
		{ "xvm", "vm-start", "vm=a", "paused=maybe", NULL },
		{ "xvm", "vm-pause", "vm=a", "--force", NULL },
		{ "xvm", "vm-param-set", "uuid=u", "power-state=Halted", NULL },    /* read-only */
		{ "xvm", "vm-param-set", "uuid=u", "VCPUs-max=many", NULL },
		{ "xvm", "vm-param-set", "uuid=u", "other-config=x", NULL },         /* whole map */
		{ "xvm", "vm-param-set", "uuid=u", NULL },                          /* nothing to set */
		{ "xvm", "vm-param-get", "uuid=u", "param-name=colour", NULL },
		{ "xvm", "vm-param-get", "uuid=u", "param-name=name-label", "param-key=k", NULL },
		{ "xvm", "vm-param-add", "uuid=u", "param-name=name-label", "a=1", NULL },
		{ "xvm", "vm-param-add", "uuid=u", "param-name=other-config", NULL },
		{ "xvm", "vm-param-add", "uuid=u", "param-name=bios-strings", "a=1", NULL }, /* RO map */
		{ "xvm", "vm-param-clear", "uuid=u", "param-name=VCPUs-max", NULL },  /* no empty int */
		{ "xvm", "vm-param-list", "uuid=u", "extra", NULL },
		{ "xvm", "help", "no-such-command", NULL },
		{ "xvm", "sr-create", "name-label=s", "type=file", "device-config=/d", NULL }, /* a map as a whole */
		{ "xvm", "sr-create", "name-label=s", "type=file", "shared=yes", NULL },
		{ "xvm", "sr-create", "name-label=s", "type=file", "name-description:k=v", NULL },
		{ "xvm", "pbd-create", "host-uuid=h", "sr-uuid=s", "sm-config:k=v", NULL },   /* not its map */
		{ "xvm", "vdi-create", "sr-uuid=s", "name-label=d", "virtual-size=10GB", NULL },
		{ "xvm", "vdi-resize", "uuid=u", "disk-size=0", NULL },
		{ "xvm", "vdi-import", "uuid=u", "filename=f", "sr-uuid=s", NULL },
		{ "xvm", "vbd-create", "vm-uuid=v", "type=Floppy-ish", NULL },
		{ "xvm", "vm-disk-add", "disk-size=1GiB", NULL },                    /* which VM? */
		{ "xvm", "vm-cd-remove", "vm=web", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = 0;
		while (bad[i][n])
			n++;
		cr_assert_eq(prepare((char **)bad[i]), CLI_EXIT_USAGE, "case %zu (%s %s) passed", i, bad[i][1],
			     n > 2 ? bad[i][2] : "");
	}
}
