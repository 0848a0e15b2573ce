/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Records and values as xe prints them:
 *
 *   uuid ( RO)       : 0b8c...
 *     name-label ( RW): web
 *    power-state ( RO): halted
 *
 * (xe's quirk kept: the first line is padded after its marker, the others
 * are right-aligned), records separated by a blank line, maps as
 * `k1: v1; k2: v2`, sets as `a; b`, references as the UUID of the object
 * they name. --minimal prints the first field of each record,
 * comma-separated; --json the records as a JSON array.
 */
#pragma once

#include <stdio.h>
#include <json-c/json.h>
#include <xvm/xvm.h>

enum cli_format { CLI_FORMAT_TEXT, CLI_FORMAT_MINIMAL, CLI_FORMAT_JSON };

/* The UUID of the object `ref` of class `cls` names (borrowed from the resolver). */
typedef const char *(*cli_ref_resolver)(void *data, const char *cls, const char *ref);

/* "( RO)", "( RW)", "(MRO)", "(MRW)", "(SRO)" or "(SRW)". */
const char *cli_field_marker(const struct xvm_field_info *f);

/* One value as text (free() it); enum fields lower-cased as xe shows them. */
char *cli_value_text(const struct xvm_field_info *f, struct json_object *v,
		     cli_ref_resolver resolve, void *data);

/* One value for --json (new reference): references replaced by UUIDs. */
struct json_object *cli_value_json(const struct xvm_field_info *f, struct json_object *v,
				   cli_ref_resolver resolve, void *data);

/* Prints `nrecords` records showing `fields` in that order; fields a record lacks are skipped. */
void cli_print_records(FILE *out, enum cli_format fmt, const struct xvm_field_info *const *fields,
		       size_t nfields, struct json_object *const *records, size_t nrecords,
		       cli_ref_resolver resolve, void *data);

/* Prints one value alone (param-get). */
void cli_print_value(FILE *out, enum cli_format fmt, const struct xvm_field_info *f,
		     struct json_object *v, cli_ref_resolver resolve, void *data);
