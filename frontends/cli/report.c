/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error messages on stderr, and the exit codes that go with them. */
#include <stdarg.h>
#include <stdio.h>

#include "commands.h"

int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctx && ctx->cmd)
		fprintf(stderr, "See 'xvm help %s'.\n", ctx->cmd->name);
	else
		fputs("See 'xvm help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_api_error(void)
{
	const struct xvm_error *e = xvm_last_error();
	if (!e) {
		fputs("Error: the call failed without saying why\n", stderr);
		return CLI_EXIT_API;
	}
	fprintf(stderr, "Error: %s: %s\n", e->name ? e->name : "INTERNAL_ERROR", e->message ? e->message : "");
	if (e->nparams) {
		fputs("Parameters: ", stderr);
		for (size_t i = 0; i < e->nparams; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", e->params[i] ? e->params[i] : "");
		fputc('\n', stderr);
	}
	return CLI_EXIT_API;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_API;
}
