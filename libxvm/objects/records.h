/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Objects of a class as rows of its table. Every function works inside the
 * caller's transaction; records are JSON objects keyed by field name.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "objects/class.h"

struct engine;

/* Inserts a new object: `fields` gives some fields (borrowed), the rest get
 * their defaults; a uuid is generated when absent. */
int rec_insert(struct engine *e, const struct class_def *c, const char *ref, struct json_object *fields);
/* A new object `dst` copying src's configuration: every stored field but the
 * runtime ones (power state, domain, ...) and those in `overrides`
 * (borrowed), which it takes instead; runtime fields get their defaults and
 * a new uuid is made. One statement: no record goes through JSON. */
int rec_copy(struct engine *e, const struct class_def *c, const char *src, const char *dst,
	     struct json_object *overrides);
/* The full record: stored, reverse and computed fields. HANDLE_INVALID if none. */
int rec_read(struct engine *e, const struct class_def *c, const char *ref, struct json_object **ret);
/* Only the stored fields named in `fields` (NULL-terminated); cheaper. */
int rec_read_fields(struct engine *e, const struct class_def *c, const char *ref,
		    const char *const *fields, struct json_object **ret);
/* All records of the class, as a map ref -> record. */
int rec_read_all(struct engine *e, const struct class_def *c, struct json_object **ret);
/* All records, with only the fields named in the JSON array `fields`;
 * much cheaper than whole records when they are stored fields. */
int rec_read_all_fields(struct engine *e, const struct class_def *c, struct json_object *fields,
			struct json_object **ret);
/* Writes stored fields from `fields` (borrowed; names must be stored fields). */
int rec_update(struct engine *e, const struct class_def *c, const char *ref, struct json_object *fields);
int rec_delete(struct engine *e, const struct class_def *c, const char *ref);
/* 1 if present, 0 if not, <0 on error. */
int rec_exists(struct engine *e, const struct class_def *c, const char *ref);
/* References of the objects whose stored field equals value (text compare), as an array. */
int rec_find(struct engine *e, const struct class_def *c, const char *field, const char *value,
	     struct json_object **refs);
/* The first such reference, or *ref NULL. */
int rec_find_one(struct engine *e, const struct class_def *c, const char *field, const char *value,
		 char **ref);
int rec_all_refs(struct engine *e, const struct class_def *c, struct json_object **refs);
/* Sets HANDLE_INVALID [class, ref]. */
int rec_handle_invalid(const struct class_def *c, const char *ref);
