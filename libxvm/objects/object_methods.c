/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "objects/object_methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/methods.h"
#include "core/util.h"
#include "lifecycle/allowed_ops.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

enum op_kind { OP_GET, OP_SET, OP_ADD_TO, OP_REMOVE_FROM, OP_ADD, OP_REMOVE };

static const struct {
	const char *prefix;
	enum op_kind kind;
	unsigned nargs;
} field_ops[] = {
	/* longest prefixes first: "add_to_" before "add_" */
	{ "add_to_", OP_ADD_TO, 3 }, { "remove_from_", OP_REMOVE_FROM, 2 }, { "get_", OP_GET, 1 },
	{ "set_", OP_SET, 2 },       { "add_", OP_ADD, 2 },                 { "remove_", OP_REMOVE, 2 },
};

static bool op_applies(enum op_kind k, const struct field_def *f)
{
	bool rw = f->info.qualifier == XVM_QUAL_RW;
	switch (k) {
	case OP_GET: return true;
	case OP_SET: return rw;
	case OP_ADD_TO:
	case OP_REMOVE_FROM: return rw && f->info.type == XVM_TYPE_MAP;
	case OP_ADD:
	case OP_REMOVE: return rw && f->info.type == XVM_TYPE_SET;
	}
	return false;
}

static int with_read(struct engine *e, int (*fn)(struct engine *, const struct class_def *, struct json_object *,
						 const struct field_def *, struct json_object **),
		     const struct class_def *c, struct json_object *args, const struct field_def *f,
		     struct json_object **result)
{
	int r = c->refresh ? c->refresh(e) : 0;
	if (r < 0 || (r = store_begin_read(e->store)) < 0)
		return r;
	r = fn(e, c, args, f, result);
	store_rollback(e->store);
	return r;
}

static int do_get_all(struct engine *e, const struct class_def *c, struct json_object *args,
		      const struct field_def *f, struct json_object **result)
{
	return rec_all_refs(e, c, result);
}

static int do_get_all_records(struct engine *e, const struct class_def *c, struct json_object *args,
			      const struct field_def *f, struct json_object **result)
{
	return rec_read_all(e, c, result);
}

static int do_get_all_records_fields(struct engine *e, const struct class_def *c, struct json_object *args,
				     const struct field_def *f, struct json_object **result)
{
	struct json_object *fields = json_object_array_get_idx(args, 0);
	if (!json_object_is_type(fields, json_type_array))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "fields", "fields must be an array of field names");
	for (size_t i = 0; i < json_object_array_length(fields); i++)
		if (!json_object_is_type(json_object_array_get_idx(fields, i), json_type_string))
			return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "fields", "fields must be an array of field names");
	return rec_read_all_fields(e, c, fields, result);
}

static int do_get_record(struct engine *e, const struct class_def *c, struct json_object *args,
			 const struct field_def *f, struct json_object **result)
{
	const char *ref;
	int r = arg_string(args, 0, "self", &ref);
	return r < 0 ? r : rec_read(e, c, ref, result);
}

static int do_get_by_uuid(struct engine *e, const struct class_def *c, struct json_object *args,
			  const struct field_def *f, struct json_object **result)
{
	const char *uuid;
	char *ref = NULL;
	int r = arg_string(args, 0, "uuid", &uuid);
	if (r == 0)
		r = rec_find_one(e, c, "uuid", uuid, &ref);
	if (r < 0)
		return r;
	if (!ref)
		return ERR2(XVM_ERR_UUID_INVALID, c->info.name, uuid,
			    uuid_valid(uuid) ? "there is no %s with UUID %s" : "%s UUID '%s' is malformed",
			    c->info.name, uuid);
	*result = json_object_new_string(ref);
	free(ref);
	return 0;
}

static int do_get_by_name_label(struct engine *e, const struct class_def *c, struct json_object *args,
				const struct field_def *f, struct json_object **result)
{
	const char *label;
	int r = arg_string(args, 0, "label", &label);
	return r < 0 ? r : rec_find(e, c, "name_label", label, result);
}

static int do_get_field(struct engine *e, const struct class_def *c, struct json_object *args,
			const struct field_def *f, struct json_object **result)
{
	const char *ref;
	struct json_object *rec;
	int r = arg_string(args, 0, "self", &ref);
	/* Virtual objects (tasks in flight) have no row to read a field from. */
	if (r == 0 && field_is_stored(f) && !c->compute_refreshes_stored && !c->virtual_records) {
		const char *const fields[] = { f->info.name, NULL };
		r = rec_read_fields(e, c, ref, fields, &rec);
	} else if (r == 0) {
		r = rec_read(e, c, ref, &rec);
	}
	if (r < 0)
		return r;
	*result = json_object_get(json_object_object_get(rec, f->info.name));
	json_object_put(rec);
	return 0;
}

/* The field's new value for a change, from the current one. */
static int changed_value(const struct class_def *c, const struct field_def *f, enum op_kind k,
			 struct json_object *args, struct json_object *current, struct json_object **ret)
{
	const char *key, *value;
	int r;
	switch (k) {
	case OP_SET:
		return field_coerce(c, f, json_object_array_get_idx(args, 1), ret);
	case OP_ADD_TO:
		if ((r = arg_string(args, 1, "key", &key)) < 0 || (r = arg_string(args, 2, "value", &value)) < 0)
			return r;
		if (json_object_object_get_ex(current, key, NULL))
			return ERR2(XVM_ERR_MAP_DUPLICATE_KEY, f->info.name, key,
				    "%s.%s already has the key '%s'", c->info.name, f->info.name, key);
		*ret = json_object_get(current);
		json_object_object_add(*ret, key, json_object_new_string(value));
		return 0;
	case OP_REMOVE_FROM:
		if ((r = arg_string(args, 1, "key", &key)) < 0)
			return r;
		*ret = json_object_get(current);
		json_object_object_del(*ret, key);
		return 0;
	case OP_ADD:
	case OP_REMOVE: {
		struct json_object *elem;
		struct xvm_field_info scalar = f->info;
		scalar.type = f->info.elem_type;
		struct field_def elem_def = { .info = scalar };
		if ((r = field_coerce(c, &elem_def, json_object_array_get_idx(args, 1), &elem)) < 0)
			return r;
		const char *s = json_object_get_string(elem);
		struct json_object *out = json_object_new_array();
		bool present = false;
		for (size_t i = 0; i < json_object_array_length(current); i++) {
			struct json_object *v = json_object_array_get_idx(current, i);
			bool same = strcmp(json_object_get_string(v), s) == 0;
			present |= same;
			if (!(same && k == OP_REMOVE))
				json_object_array_add(out, json_object_get(v));
		}
		if (k == OP_ADD && !present)
			json_object_array_add(out, json_object_get(elem));
		json_object_put(elem);
		*ret = out;
		return 0;
	}
	default:
		return ERR0(XVM_ERR_INTERNAL_ERROR, "not a change");
	}
}

static int check_ref_target(struct engine *e, const struct field_def *f, struct json_object *v)
{
	if (f->info.type != XVM_TYPE_REF || ref_is_null(json_object_get_string(v)))
		return 0;
	const struct class_def *target = class_def_lookup(f->info.ref_class);
	int r = rec_exists(e, target, json_object_get_string(v));
	return r == 1 ? 0 : r < 0 ? r : rec_handle_invalid(target, json_object_get_string(v));
}

static int modify_field(struct engine *e, const struct class_def *c, const struct field_def *f,
			enum op_kind k, struct json_object *args)
{
	const char *ref;
	int r = arg_string(args, 0, "self", &ref);
	if (r < 0 || (r = store_begin_write(e->store)) < 0)
		return r;
	struct json_object *rec = NULL, *value = NULL;
	if ((r = rec_read(e, c, ref, &rec)) < 0)
		goto out;
	if ((f->flags & FIELD_HALTED_ONLY)) {
		const char *power = json_object_get_string(json_object_object_get(rec, "power_state"));
		if (strcmp(power, "Halted") != 0) {
			char doing[96];
			snprintf(doing, sizeof(doing), "change %s", f->info.name);
			r = vm_bad_power_state(ref, json_object_get_string(json_object_object_get(rec, "name_label")),
					       "Halted", power, doing);
			goto out;
		}
	}
	if ((r = changed_value(c, f, k, args, json_object_object_get(rec, f->info.name), &value)) < 0)
		goto out;
	if ((r = check_ref_target(e, f, value)) < 0)
		goto out;
	json_object_object_add(rec, f->info.name, json_object_get(value));
	if (c->check && (r = c->check(e, ref, rec)) < 0)
		goto out;
	struct json_object *changes = json_object_new_object();
	json_object_object_add(changes, f->info.name, json_object_get(value));
	r = rec_update(e, c, ref, changes);
	json_object_put(changes);
out:
	json_object_put(rec);
	json_object_put(value);
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

int object_method_dispatch(struct engine *e, const struct class_def *c, const char *op,
			   struct json_object *args, struct json_object **result)
{
	static const struct {
		const char *name;
		int (*fn)(struct engine *, const struct class_def *, struct json_object *,
			  const struct field_def *, struct json_object **);
		unsigned nargs;
	} class_ops[] = {
		{ "get_all", do_get_all, 0 },
		{ "get_all_records", do_get_all_records, 0 },
		/* xvm: get_all_records with only the fields named */
		{ "get_all_records_fields", do_get_all_records_fields, 1 },
		{ "get_record", do_get_record, 1 },
		{ "get_by_uuid", do_get_by_uuid, 1 },
		{ "get_by_name_label", do_get_by_name_label, 1 },
	};
	char full[160];
	snprintf(full, sizeof(full), "%s.%s", c->info.name, op);
	size_t nargs = json_object_array_length(args);
	for (size_t i = 0; i < sizeof(class_ops) / sizeof(class_ops[0]); i++) {
		if (strcmp(op, class_ops[i].name) != 0)
			continue;
		if (strcmp(op, "get_by_name_label") == 0 && !class_def_field(c, "name_label"))
			break;
		if (nargs != class_ops[i].nargs)
			return methods_count_mismatch(full, class_ops[i].nargs, nargs);
		return with_read(e, class_ops[i].fn, c, args, NULL, result);
	}
	for (size_t i = 0; i < sizeof(field_ops) / sizeof(field_ops[0]); i++) {
		size_t n = strlen(field_ops[i].prefix);
		if (strncmp(op, field_ops[i].prefix, n) != 0)
			continue;
		const struct field_def *f = class_def_field(c, op + n);
		if (!f)
			continue;
		if (!op_applies(field_ops[i].kind, f)) {
			if (field_ops[i].kind == OP_SET)
				return ERR1(XVM_ERR_MESSAGE_METHOD_UNKNOWN, full,
					    "there is no method %s: %s.%s is read-only", full, c->info.name,
					    f->info.name);
			continue;
		}
		if (nargs != field_ops[i].nargs)
			return methods_count_mismatch(full, field_ops[i].nargs, nargs);
		if (field_ops[i].kind == OP_GET)
			return with_read(e, do_get_field, c, args, f, result);
		*result = NULL;
		return modify_field(e, c, f, field_ops[i].kind, args);
	}
	return -XVM_ERR_MESSAGE_METHOD_UNKNOWN;
}

void object_methods_list(const struct class_def *c, struct json_object *out)
{
	static const char *const class_ops[] = { "get_all", "get_all_records", "get_all_records_fields",
						 "get_record", "get_by_uuid", "get_by_name_label" };
	char name[160];
	for (size_t i = 0; i < sizeof(class_ops) / sizeof(class_ops[0]); i++) {
		if (strcmp(class_ops[i], "get_by_name_label") == 0 && !class_def_field(c, "name_label"))
			continue;
		snprintf(name, sizeof(name), "%s.%s", c->info.name, class_ops[i]);
		json_object_array_add(out, json_object_new_string(name));
	}
	for (const struct field_def *f = c->fields; f->info.name; f++) {
		for (size_t i = 0; i < sizeof(field_ops) / sizeof(field_ops[0]); i++) {
			if (!op_applies(field_ops[i].kind, f))
				continue;
			snprintf(name, sizeof(name), "%s.%s%s", c->info.name, field_ops[i].prefix, f->info.name);
			json_object_array_add(out, json_object_new_string(name));
		}
	}
}
