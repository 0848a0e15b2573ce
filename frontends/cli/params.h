/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed values of a command's own parameters (shared=true, virtual-size=10GiB,
 * mode=RO, device-config:location=/srv), checked before anything connects
 * by cli_check_param_values and read by the handlers afterwards.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "commands.h"

/*
 * A check for the command table: sizes (virtual-size=, disk-size=) take
 * bytes or units (512MiB, 10GiB); parameters that are bool or enum fields
 * of the command's class (shared=, bootable=, mode=) take that type's values.
 */
int cli_check_param_values(struct cli_ctx *ctx);

/* The text of parameter `name`, or dflt when it is not given. */
const char *cli_param_text(const struct cli_ctx *ctx, const char *name, const char *dflt);
bool cli_param_bool(const struct cli_ctx *ctx, const char *name, bool dflt);
/* A size checked by cli_check_param_values; 0 when not given. */
int64_t cli_param_size(const struct cli_ctx *ctx, const char *name);
/* An enum field's value spelled as the class declares it ("cd" -> "CD"), or dflt. */
const char *cli_param_enum(const struct cli_ctx *ctx, const char *name, const char *dflt);
/* The NAME:KEY=VALUE parameters of map parameter `name` as a JSON object (owned). */
struct json_object *cli_param_map(const struct cli_ctx *ctx, const char *name);
