/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing objects: field filters (power-state=running, other-config:k=v),
 * the NAME= selector (vm=NAME-or-UUID), uuid=, and --multiple.
 */
#pragma once

#include <stdbool.h>
#include <json-c/json.h>

#include "commands.h"

/*
 * Compiles the command line's field filters into ctx->filters, plus the
 * command's default filter unless the user filters on that field. Static:
 * returns CLI_EXIT_USAGE for a bad field or value.
 */
int cli_filters_compile(struct cli_ctx *ctx);
void cli_filters_clear(struct cli_ctx *ctx);
bool cli_filters_match(struct cli_ctx *ctx, struct json_object *record);

/*
 * All records of ctx->cls with the given fields and those the filters look
 * at: one call, fetching no more than is shown (fields NULL: whole records).
 */
int cli_fetch_records(struct cli_ctx *ctx, const struct xvm_field_info *const *fields, size_t nfields,
		      struct json_object **records);

/* Static check of a CLI_CMD_SELECT command's selection. */
int cli_select_check(struct cli_ctx *ctx);

/*
 * The references a CLI_CMD_SELECT command acts on (a JSON array, owned).
 * Nothing matching, or several without --multiple, is an error.
 */
int cli_select(struct cli_ctx *ctx, struct json_object **refs);

/* The one object of `cls` with this UUID, else with this name_label (free() *ref). */
int cli_lookup(struct cli_ctx *ctx, const char *cls, const char *text, char **ref);

/* The object of class cls whose UUID the (given) parameter `param` holds (free() *ref). */
int cli_lookup_uuid(struct cli_ctx *ctx, const char *cls, const char *param, char **ref);

/* The object of ctx->cls with uuid=... (free() *ref). */
int cli_lookup_uuid_param(struct cli_ctx *ctx, char **ref);
