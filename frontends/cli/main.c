/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xvm: the xe-style command line over libxvm. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "refcache.h"
#include "select.h"
#include "target.h"

static int run(struct cli_ctx *ctx)
{
	int r = cli_prepare(ctx);
	if (r || (ctx->cmd->flags & CLI_CMD_OFFLINE))
		return r ? r : ctx->cmd->run(ctx);
	struct cli_target t;
	char err[512];
	if (cli_target_resolve(&ctx->args->opts, &t, err, sizeof(err)) < 0)
		return cli_usage(ctx, "%s", err);
	/* A NULL URI: the library applies $XVM_URI, else its default. */
	r = xvm_connect_auth(t.uri, t.user, t.password, 0, &ctx->conn);
	cli_target_clear(&t);
	if (r < 0)
		return cli_api_error();
	if (!(ctx->refs = cli_refcache_new(ctx->conn)))
		r = cli_fail("out of memory");
	else
		r = ctx->cmd->run(ctx);
	cli_refcache_free(ctx->refs);
	xvm_disconnect(ctx->conn);
	return r;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--complete") == 0)
		return cli_complete(argc - 2, argv + 2);

	struct cli_args args;
	char err[512];
	if (cli_args_parse(argc, argv, &args, err, sizeof(err)) < 0)
		return cli_usage(NULL, "%s", err);

	/* A bare `xvm` (or `xvm --all`) is a request for help. */
	const struct cli_command *cmd = cli_command_lookup(args.command ? args.command : "help");
	if (!cmd) {
		int r = cli_usage(NULL, "unknown command '%s'", args.command);
		cli_args_clear(&args);
		return r;
	}
	struct cli_ctx ctx = { .cmd = cmd, .args = &args };
	int r = run(&ctx);
	/* Output errors (a closed pipe, a full disk) must not pass as success. */
	if (fflush(stdout) != 0 && r == CLI_EXIT_OK)
		r = cli_fail("cannot write the output");
	cli_filters_clear(&ctx);
	cli_args_clear(&args);
	return r;
}
