/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The object model: XenAPI's classes and fields, and the calls that every
 * class answers. Records are JSON objects keyed by XenAPI field names
 * ("name_label", "power_state", "VCPUs_max", "other_config", ...), with
 * values in XenAPI's JSON-RPC form: strings, numbers, booleans, datetimes
 * as "20261125T17:24:18Z", references as "OpaqueRef:...", sets as arrays,
 * maps as objects of strings.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xvm_conn;

/* --- Class metadata (static, identical over every connection) ------------ */

enum xvm_type {
	XVM_TYPE_STRING = 0,
	XVM_TYPE_INT,
	XVM_TYPE_FLOAT,
	XVM_TYPE_BOOL,
	XVM_TYPE_DATETIME,
	XVM_TYPE_ENUM,   /* a string from enum_values */
	XVM_TYPE_REF,    /* a reference to an object of ref_class */
	XVM_TYPE_SET,    /* an array of elem_type */
	XVM_TYPE_MAP,    /* an object of string -> string */
};

enum xvm_qualifier {
	XVM_QUAL_RO_RUNTIME = 0,  /* read-only, kept by the engine */
	XVM_QUAL_RO_CONSTRUCTOR,  /* set at creation, read-only after */
	XVM_QUAL_RW,              /* settable */
};

struct xvm_field_info {
	const char *name;              /* XenAPI name, e.g. "VCPUs_max" */
	enum xvm_type type;
	enum xvm_type elem_type;       /* for SET: STRING, REF or ENUM */
	const char *ref_class;         /* for REF, or SET of REF */
	const char *const *enum_values;/* NULL-terminated, for ENUM or SET of ENUM */
	enum xvm_qualifier qualifier;
	const char *description;
	/* Fields may be appended in later releases: use xvm_class_field_at(). */
};

struct xvm_class_info {
	const char *name;              /* "VM", "VBD", ... */
	const char *description;
	size_t nfields;
};

/* NULL when there is no such class. */
const struct xvm_class_info *xvm_class_lookup(const char *name);
/* Every class, for i in [0, xvm_class_count()). */
size_t xvm_class_count(void);
const struct xvm_class_info *xvm_class_at(size_t i);
/* The field at index i (i < nfields), or NULL. */
const struct xvm_field_info *xvm_class_field_at(const struct xvm_class_info *cls, size_t i);
/* The field named `name`, or NULL. */
const struct xvm_field_info *xvm_class_field(const struct xvm_class_info *cls, const char *name);

/* --- Calls every class answers -------------------------------------------- */

/* All references of the class, as a JSON array (owned by the caller). */
int xvm_object_get_all(struct xvm_conn *conn, const char *cls, struct json_object **refs);
/* A JSON object mapping each reference to its record. */
int xvm_object_get_all_records(struct xvm_conn *conn, const char *cls, struct json_object **records);
/* Like get_all_records, with only the named fields (NULL-terminated list):
 * what a listing needs, at a fraction of the cost. An xvm extension
 * (Class.get_all_records_fields). */
int xvm_object_get_all_records_fields(struct xvm_conn *conn, const char *cls, const char *const *fields,
				      struct json_object **records);
/* The record of one object. */
int xvm_object_get_record(struct xvm_conn *conn, const char *cls, const char *ref,
			  struct json_object **record);
/* The reference of the object with this UUID (free() it). */
int xvm_object_get_by_uuid(struct xvm_conn *conn, const char *cls, const char *uuid, char **ref);
/* The references of the objects with this name_label, as a JSON array. */
int xvm_object_get_by_name_label(struct xvm_conn *conn, const char *cls, const char *label,
				 struct json_object **refs);
/* One field's value (owned by the caller). */
int xvm_object_get_field(struct xvm_conn *conn, const char *cls, const char *ref,
			 const char *field, struct json_object **value);
/* Sets an RW field; the value must have the field's type (FIELD_TYPE_ERROR). */
int xvm_object_set_field(struct xvm_conn *conn, const char *cls, const char *ref,
			 const char *field, struct json_object *value);
/* Maps: adds key=value (MAP_DUPLICATE_KEY if present). Sets: adds `key` (value NULL). */
int xvm_object_add_to_field(struct xvm_conn *conn, const char *cls, const char *ref,
			    const char *field, const char *key, const char *value);
/* Maps: removes key; sets: removes the element `key`. Absent keys are not an error. */
int xvm_object_remove_from_field(struct xvm_conn *conn, const char *cls, const char *ref,
				 const char *field, const char *key);

#ifdef __cplusplus
}
#endif
