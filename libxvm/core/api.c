/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The typed public functions: each builds a method call and goes through
 * xvm_call, so they behave the same over every kind of connection.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/api_internal.h"
#include "core/error_internal.h"
#include "xvm/xvm.h"

int call_taking(xvm_conn *c, const char *method, struct json_object *args, struct json_object **result)
{
	int r = xvm_call(c, method, args, result);
	json_object_put(args);
	return r;
}

int call_strings(xvm_conn *c, const char *cls, const char *op, struct json_object **result, ...)
{
	char method[160];
	if (!cls || snprintf(method, sizeof(method), "%s.%s", cls, op) >= (int)sizeof(method))
		return ERR1(XVM_ERR_MESSAGE_METHOD_UNKNOWN, cls ? cls : "", "no such class");
	struct json_object *args = json_object_new_array();
	va_list ap;
	va_start(ap, result);
	for (const char *s; (s = va_arg(ap, const char *));)
		json_object_array_add(args, json_object_new_string(s));
	va_end(ap);
	return call_taking(c, method, args, result);
}

int need(const void *p, const char *what)
{
	return p ? 0 : ERR1(XVM_ERR_INVALID_VALUE, what, "%s must not be NULL", what);
}

int xvm_object_get_all(xvm_conn *c, const char *cls, struct json_object **refs)
{
	return call_strings(c, cls, "get_all", refs, NULL);
}

int xvm_object_get_all_records(xvm_conn *c, const char *cls, struct json_object **records)
{
	return call_strings(c, cls, "get_all_records", records, NULL);
}

int xvm_object_get_all_records_fields(xvm_conn *c, const char *cls, const char *const *fields,
				      struct json_object **records)
{
	int r = need(fields, "fields");
	if (r < 0 || (r = need(cls, "class")) < 0)
		return r;
	char method[160];
	snprintf(method, sizeof(method), "%s.get_all_records_fields", cls);
	struct json_object *names = json_object_new_array(), *args = json_object_new_array();
	for (const char *const *f = fields; *f; f++)
		json_object_array_add(names, json_object_new_string(*f));
	json_object_array_add(args, names);
	return call_taking(c, method, args, records);
}

int xvm_object_get_record(xvm_conn *c, const char *cls, const char *ref, struct json_object **record)
{
	int r = need(ref, "ref");
	return r < 0 ? r : call_strings(c, cls, "get_record", record, ref, NULL);
}

int xvm_object_get_by_uuid(xvm_conn *c, const char *cls, const char *uuid, char **ref)
{
	struct json_object *res = NULL;
	int r = need(uuid, "uuid");
	if (r == 0)
		r = call_strings(c, cls, "get_by_uuid", &res, uuid, NULL);
	if (r < 0)
		return r;
	*ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return *ref ? 0 : error_oom();
}

int xvm_object_get_by_name_label(xvm_conn *c, const char *cls, const char *label, struct json_object **refs)
{
	int r = need(label, "label");
	return r < 0 ? r : call_strings(c, cls, "get_by_name_label", refs, label, NULL);
}

int xvm_object_get_field(xvm_conn *c, const char *cls, const char *ref, const char *field,
			 struct json_object **value)
{
	char op[128];
	int r = need(ref, "ref");
	if (r == 0 && (r = need(field, "field")) == 0)
		snprintf(op, sizeof(op), "get_%s", field);
	return r < 0 ? r : call_strings(c, cls, op, value, ref, NULL);
}

int xvm_object_set_field(xvm_conn *c, const char *cls, const char *ref, const char *field,
			 struct json_object *value)
{
	int r;
	if ((r = need(ref, "ref")) < 0 || (r = need(field, "field")) < 0 || (r = need(cls, "class")) < 0)
		return r;
	char method[160];
	snprintf(method, sizeof(method), "%s.set_%s", cls, field);
	struct json_object *args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(ref));
	json_object_array_add(args, json_object_get(value));
	return call_taking(c, method, args, NULL);
}

/* Maps use add_to_F/remove_from_F, sets add_F/remove_F, as XenAPI does. */
static bool field_is_set(const char *cls, const char *field)
{
	const struct xvm_class_info *ci = xvm_class_lookup(cls);
	const struct xvm_field_info *fi = ci ? xvm_class_field(ci, field) : NULL;
	return fi && fi->type == XVM_TYPE_SET;
}

int xvm_object_add_to_field(xvm_conn *c, const char *cls, const char *ref, const char *field, const char *key,
			    const char *value)
{
	int r;
	if ((r = need(ref, "ref")) < 0 || (r = need(field, "field")) < 0 || (r = need(key, "key")) < 0)
		return r;
	char op[128];
	if (field_is_set(cls, field)) {
		snprintf(op, sizeof(op), "add_%s", field);
		return call_strings(c, cls, op, NULL, ref, key, NULL);
	}
	if ((r = need(value, "value")) < 0)
		return r;
	snprintf(op, sizeof(op), "add_to_%s", field);
	return call_strings(c, cls, op, NULL, ref, key, value, NULL);
}

int xvm_object_remove_from_field(xvm_conn *c, const char *cls, const char *ref, const char *field,
				 const char *key)
{
	int r;
	if ((r = need(ref, "ref")) < 0 || (r = need(field, "field")) < 0 || (r = need(key, "key")) < 0)
		return r;
	char op[128];
	snprintf(op, sizeof(op), field_is_set(cls, field) ? "remove_%s" : "remove_from_%s", field);
	return call_strings(c, cls, op, NULL, ref, key, NULL);
}

/* --- VM ------------------------------------------------------------------- */

static int vm_call(xvm_conn *c, const char *op, const char *vm)
{
	int r = need(vm, "vm");
	return r < 0 ? r : call_strings(c, "VM", op, NULL, vm, NULL);
}

static int vm_start_like(xvm_conn *c, const char *op, const char *vm, unsigned flags)
{
	int r = need(vm, "vm");
	if (r < 0)
		return r;
	if (flags & ~(XVM_VM_START_PAUSED | XVM_VM_START_FORCE))
		return ERR2(XVM_ERR_INVALID_VALUE, "flags", "", "unknown flags %#x", flags);
	struct json_object *args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(vm));
	json_object_array_add(args, json_object_new_boolean(!!(flags & XVM_VM_START_PAUSED)));
	json_object_array_add(args, json_object_new_boolean(!!(flags & XVM_VM_START_FORCE)));
	char method[32];
	snprintf(method, sizeof(method), "VM.%s", op);
	return call_taking(c, method, args, NULL);
}

int xvm_vm_start(xvm_conn *c, const char *vm, unsigned flags)
{
	return vm_start_like(c, "start", vm, flags);
}

int xvm_vm_resume(xvm_conn *c, const char *vm, unsigned flags)
{
	return vm_start_like(c, "resume", vm, flags);
}

int xvm_vm_clean_shutdown(xvm_conn *c, const char *vm) { return vm_call(c, "clean_shutdown", vm); }
int xvm_vm_hard_shutdown(xvm_conn *c, const char *vm) { return vm_call(c, "hard_shutdown", vm); }
int xvm_vm_clean_reboot(xvm_conn *c, const char *vm) { return vm_call(c, "clean_reboot", vm); }
int xvm_vm_hard_reboot(xvm_conn *c, const char *vm) { return vm_call(c, "hard_reboot", vm); }
int xvm_vm_pause(xvm_conn *c, const char *vm) { return vm_call(c, "pause", vm); }
int xvm_vm_unpause(xvm_conn *c, const char *vm) { return vm_call(c, "unpause", vm); }
int xvm_vm_suspend(xvm_conn *c, const char *vm) { return vm_call(c, "suspend", vm); }
int xvm_vm_destroy(xvm_conn *c, const char *vm) { return vm_call(c, "destroy", vm); }
int xvm_vm_uninstall(xvm_conn *c, const char *vm) { return vm_call(c, "uninstall", vm); }

int xvm_vm_install(xvm_conn *c, const char *template_name, const char *new_name_label, unsigned flags,
		   char **ret)
{
	int r;
	if ((r = need(template_name, "template")) < 0 || (r = need(new_name_label, "new_name_label")) < 0)
		return r;
	if (flags)
		return ERR2(XVM_ERR_INVALID_VALUE, "flags", "", "unknown flags %#x", flags);
	struct json_object *res;
	if ((r = call_strings(c, "VM", "install", &res, template_name, new_name_label, NULL)) < 0)
		return r;
	*ret = strdup(json_object_get_string(res));
	json_object_put(res);
	return *ret ? 0 : error_oom();
}

/* A call whose result is a reference: *ret (free()). */
static int ref_call(xvm_conn *c, const char *method, struct json_object *args, char **ret)
{
	struct json_object *res = NULL;
	int r = call_taking(c, method, args, &res);
	if (r < 0)
		return r;
	*ret = strdup(json_object_get_string(res));
	json_object_put(res);
	return *ret ? 0 : error_oom();
}

int xvm_vm_install_with(xvm_conn *c, const char *template_name, const char *new_name_label, const char *sr,
			unsigned flags, char **ret)
{
	int r;
	if ((r = need(template_name, "template")) < 0 || (r = need(new_name_label, "new_name_label")) < 0)
		return r;
	if (flags & ~XVM_VM_INSTALL_COPY)
		return ERR2(XVM_ERR_INVALID_VALUE, "flags", "", "unknown flags %#x", flags);
	struct json_object *args = json_object_new_array(), *opts = json_object_new_object();
	json_object_array_add(args, json_object_new_string(template_name));
	json_object_array_add(args, json_object_new_string(new_name_label));
	if (sr)
		json_object_object_add(opts, "sr", json_object_new_string(sr));
	json_object_object_add(opts, "copy", json_object_new_string(flags & XVM_VM_INSTALL_COPY ? "true" : "false"));
	json_object_array_add(args, opts);
	return ref_call(c, "VM.install_with", args, ret);
}

/* VM.clone(vm, new_name) and VM.copy(vm, new_name, sr). */
static int copy_call(xvm_conn *c, const char *method, const char *vm, const char *new_name_label, const char *sr,
		     char **ret)
{
	int r;
	if ((r = need(vm, "vm")) < 0 || (r = need(new_name_label, "new_name_label")) < 0)
		return r;
	struct json_object *args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(vm));
	json_object_array_add(args, json_object_new_string(new_name_label));
	if (sr)
		json_object_array_add(args, json_object_new_string(sr));
	return ref_call(c, method, args, ret);
}

int xvm_vm_clone(xvm_conn *c, const char *vm, const char *new_name_label, char **ret)
{
	return copy_call(c, "VM.clone", vm, new_name_label, NULL, ret);
}

int xvm_vm_copy(xvm_conn *c, const char *vm, const char *new_name_label, const char *sr, char **ret)
{
	return copy_call(c, "VM.copy", vm, new_name_label, sr ? sr : "OpaqueRef:NULL", ret);
}

int xvm_vm_simulate_guest_action(xvm_conn *c, const char *vm, const char *action)
{
	int r;
	if ((r = need(vm, "vm")) < 0 || (r = need(action, "action")) < 0)
		return r;
	return call_strings(c, "VM", "simulate_guest_action", NULL, vm, action, NULL);
}

/* VM.X(vm, int) */
static int vm_call_int(xvm_conn *c, const char *method, const char *vm, int64_t n)
{
	int r = need(vm, "vm");
	if (r < 0)
		return r;
	struct json_object *args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(vm));
	json_object_array_add(args, json_object_new_int64(n));
	return call_taking(c, method, args, NULL);
}

int xvm_vm_set_vcpus_live(xvm_conn *c, const char *vm, int64_t n)
{
	return vm_call_int(c, "VM.set_VCPUs_number_live", vm, n);
}

int xvm_vm_set_memory_target_live(xvm_conn *c, const char *vm, int64_t bytes)
{
	return vm_call_int(c, "VM.set_memory_target_live", vm, bytes);
}
