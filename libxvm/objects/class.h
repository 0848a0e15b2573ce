/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Class and field definitions: the public xvm_class_info / xvm_field_info
 * plus what the engine needs to store, default and check each field.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <xvm/object.h>

struct engine;

enum field_flags {
	/* Not stored: a reverse relation, filled from the other class's
	 * `reverse_field` (VM.VBDs <- VBD.VM). */
	FIELD_REVERSE = 1u << 0,
	/* Not stored: computed at read time by the class's compute hook. */
	FIELD_COMPUTED = 1u << 1,
	/* VM fields that can only change while the VM is Halted. */
	FIELD_HALTED_ONLY = 1u << 2,
	/* A reverse relation read too seldom to index the field it follows
	 * (host.resident_VMs: VMs start and stop all the time, hosts are
	 * listed now and then). */
	FIELD_REVERSE_UNINDEXED = 1u << 3,
};

struct field_def {
	struct xvm_field_info info; /* first: the public view points here */
	const char *default_json;   /* JSON text; NULL: the type's empty value */
	unsigned flags;
	const char *reverse_class;  /* FIELD_REVERSE: class and field pointing here */
	const char *reverse_field;
};

struct class_def {
	struct xvm_class_info info; /* first */
	const struct field_def *fields;
	/* What compute needs for a batch of records (say, the operations in
	 * flight), gathered once per read; may be NULL. */
	struct json_object *(*compute_context)(struct engine *e);
	/* Fills FIELD_COMPUTED fields of a record read from the store; when
	 * compute_refreshes_stored, also brings stored ones up to date. */
	bool compute_refreshes_stored;
	/* Fills FIELD_COMPUTED fields of a record read from the store. */
	void (*compute)(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *record);
	/* Objects that live outside the store (tasks of operations in flight),
	 * as a map ref -> full record. */
	int (*virtual_records)(struct engine *e, struct json_object **ret);
	/* Brings the class's records up to date before a read, outside any
	 * transaction (storage that changes by itself); may be NULL. */
	int (*refresh)(struct engine *e);
	/* Checks a whole record after a change; returns 0 or sets an error. */
	int (*check)(struct engine *e, const char *ref, struct json_object *record);
};

/* Shorthand for field tables: `{ INT("VCPUs_max", Q_RW, "..."), .default_json = "1" }`.
 * Qualifiers: RO_RUNTIME, RO_CONSTRUCTOR, RW. */
#define Q_RO XVM_QUAL_RO_RUNTIME
#define Q_RC XVM_QUAL_RO_CONSTRUCTOR
#define Q_RW XVM_QUAL_RW

#define FIELD_(n, t, q, d, ...) .info = { .name = n, .type = t, .qualifier = q, .description = d, __VA_ARGS__ }
#define STR(n, q, d)        FIELD_(n, XVM_TYPE_STRING, q, d)
#define INT(n, q, d)        FIELD_(n, XVM_TYPE_INT, q, d)
#define FLOAT(n, q, d)      FIELD_(n, XVM_TYPE_FLOAT, q, d)
#define BOOL(n, q, d)       FIELD_(n, XVM_TYPE_BOOL, q, d)
#define TIME(n, q, d)       FIELD_(n, XVM_TYPE_DATETIME, q, d)
#define ENUM(n, v, q, d)    FIELD_(n, XVM_TYPE_ENUM, q, d, .enum_values = v)
#define REF(n, c, q, d)     FIELD_(n, XVM_TYPE_REF, q, d, .ref_class = c)
#define MAP(n, q, d)        FIELD_(n, XVM_TYPE_MAP, q, d)
#define SET_STR(n, q, d)    FIELD_(n, XVM_TYPE_SET, q, d, .elem_type = XVM_TYPE_STRING)
#define SET_ENUM(n, v, q, d) FIELD_(n, XVM_TYPE_SET, q, d, .elem_type = XVM_TYPE_ENUM, .enum_values = v)
/* A set of references kept as the reverse of cls.field (VM.VBDs <- VBD.VM). */
#define REVERSE_(n, c, f, d, fl) \
	FIELD_(n, XVM_TYPE_SET, Q_RO, d, .elem_type = XVM_TYPE_REF, .ref_class = c), \
	.flags = FIELD_REVERSE | (fl), .reverse_class = c, .reverse_field = f
#define REVERSE(n, c, f, d) REVERSE_(n, c, f, d, 0)
#define REVERSE_UNINDEXED(n, c, f, d) REVERSE_(n, c, f, d, FIELD_REVERSE_UNINDEXED)
/* XenAPI's allowed_operations, computed from the object's state. */
#define ALLOWED_OPS(v) \
	SET_ENUM("allowed_operations", v, Q_RO, "Operations allowed in the current state"), \
	.flags = FIELD_COMPUTED
#define CURRENT_OPS MAP("current_operations", Q_RO, "Operations in flight: task reference -> operation")

/* Fields most classes have. */
#define UUID_FIELD { STR("uuid", Q_RO, "Unique identifier") }
#define NAME_FIELDS { STR("name_label", Q_RW, "A human-readable name") }, \
	{ STR("name_description", Q_RW, "A notes field containing a human-readable description") }
#define OTHER_CONFIG { MAP("other_config", Q_RW, "Additional configuration") }
#define TAGS { SET_STR("tags", Q_RW, "User tags") }
#define FIELDS_END { .info = { .name = NULL } }

extern const char *const operations_vm[];

const struct class_def *class_def_lookup(const char *name);
const struct field_def *class_def_field(const struct class_def *c, const char *name);
/* Whether the field is kept in the store's table (not reverse or computed). */
bool field_is_stored(const struct field_def *f);
/* A new JSON value: the field's default. */
struct json_object *field_default(const struct field_def *f);
/* 0 if `value` has the field's type (normalising int strings in place is not done:
 * callers pass the normalised value from field_coerce). */
int field_coerce(const struct class_def *c, const struct field_def *f, struct json_object *value,
		 struct json_object **out);
