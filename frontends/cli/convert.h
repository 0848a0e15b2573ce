/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Field names and values between the command line's text and the API's
 * JSON, driven by the class metadata: xe hyphenates XenAPI names
 * (name_label <-> name-label) and types each value by its field.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <xvm/xvm.h>

/* The field a command-line name ("VCPUs-max") stands for, or NULL; xe's
 * "sr-uuid" (VDI, PBD), "vm-uuid", "vdi-uuid" (VBD), "host-uuid" (PBD) stand
 * for the reference to the object of that class. */
const struct xvm_field_info *cli_field_lookup(const struct xvm_class_info *cls, const char *cli_name);

/* The command-line name of a field ("name_label" -> "name-label"); free() it. */
char *cli_field_name(const struct xvm_field_info *f);

/* Memory fields (ints whose name starts with "memory") take units: 512MiB, 2GiB. */
bool cli_field_is_memory(const struct xvm_field_info *f);

/* Bytes from "1073741824", "1024KiB", "512MiB", "2GiB" or "1TiB". */
int cli_parse_memory(const char *text, int64_t *bytes);

/* "true" or "false", in any case. */
int cli_parse_bool(const char *text, bool *value);

/*
 * The JSON value of `text` for field f: int (memory units for memory
 * fields), float, bool, enum (matched case-insensitively, sent as the
 * metadata spells it), datetime, string, ref (the text as given, a UUID or
 * name for the caller to resolve), set (comma-separated elements of the
 * element type). Maps take one key at a time (name:key=value), so a whole
 * map is refused. Returns 0, or -1 with a one-line message in err.
 */
int cli_convert_value(const struct xvm_field_info *f, const char *text, struct json_object **out,
		      char *err, size_t errlen);
