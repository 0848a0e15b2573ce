/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fields through the public API on sim:///DIR: get/set rules, maps and sets,
 * VM constraints. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static char *dir;
static xvm_conn *conn;

static void setup(void)
{
	dir = t_tmpdir();
	conn = t_connect(dir);
}

static void teardown(void)
{
	conn = xvm_disconnect(conn);
	t_rmdir(dir);
	dir = NULL;
}

TestSuite(objects, .init = setup, .fini = teardown);


/* --- field get/set ----------------------------------------------------------------- */

Test(objects, rw_fields_settable)
{
	char *vm = t_install(conn, "rw");
	T_OK(t_set_str(conn, "VM", vm, "name_label", "renamed"));
	cr_assert_str_eq(t_gets(conn, "VM", vm, "name_label"), "renamed");
	T_OK(t_set_str(conn, "VM", vm, "name_description", "a description with ünïcode"));
	cr_assert_str_eq(t_gets(conn, "VM", vm, "name_description"), "a description with ünïcode");
	T_OK(t_set_int(conn, "VM", vm, "user_version", 7));
	cr_assert_eq(t_geti(conn, "VM", vm, "user_version"), 7);
	T_OK(t_set_json(conn, "VM", vm, "ha_always_run", "true"));
	cr_assert(t_getb(conn, "VM", vm, "ha_always_run"));
	T_OK(t_set_json(conn, "VM", vm, "HVM_shadow_multiplier", "2.5"));
	struct json_object *f = t_get(conn, "VM", vm, "HVM_shadow_multiplier");
	cr_assert_float_eq(json_object_get_double(f), 2.5, 1e-9);
	json_object_put(f);
	T_OK(t_set_str(conn, "VM", vm, "actions_after_crash", "preserve"));
	cr_assert_str_eq(t_gets(conn, "VM", vm, "actions_after_crash"), "preserve");
	T_OK(t_set_json(conn, "VM", vm, "platform", "{\"acpi\": \"false\", \"machine\": \"pc\"}"));
	struct json_object *p = t_get(conn, "VM", vm, "platform");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(p, "machine")), "pc");
	cr_assert_eq(json_object_object_length(p), 2);
	json_object_put(p);
	/* the change is stored: a new connection sees it */
	xvm_conn *c2 = t_connect(dir);
	cr_assert_str_eq(t_gets(c2, "VM", vm, "name_label"), "renamed");
	xvm_disconnect(c2);
	/* other classes too */
	struct json_object *pools = t_all_refs(conn, "pool");
	T_OK(t_set_str(conn, "pool", t_first(pools), "name_label", "my pool"));
	cr_assert_str_eq(t_gets(conn, "pool", t_first(pools), "name_label"), "my pool");
	json_object_put(pools);
	free(vm);
}

Test(objects, ro_fields_refused)
{
	char *vm = t_install(conn, "ro");
	const char *uuid = t_gets(conn, "VM", vm, "uuid");
	T_ERR(t_set_str(conn, "VM", vm, "power_state", "Running"), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1,
	      "VM.set_power_state");
	T_ERR(t_set_str(conn, "VM", vm, "uuid", "11111111-1111-4111-8111-111111111111"), XVM_ERR_MESSAGE_METHOD_UNKNOWN,
	      1, "VM.set_uuid");
	T_ERR(t_set_int(conn, "VM", vm, "domid", 5), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "VM.set_domid");
	T_ERR(t_set_json(conn, "VM", vm, "allowed_operations", "[]"), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1,
	      "VM.set_allowed_operations");
	T_ERR(t_set_json(conn, "VM", vm, "is_default_template", "true"), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1,
	      "VM.set_is_default_template");
	T_ERR(t_set_json(conn, "VM", vm, "VBDs", "[]"), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "VM.set_VBDs");
	cr_assert_str_eq(t_power(conn, vm), "Halted");
	cr_assert_str_eq(t_gets(conn, "VM", vm, "uuid"), uuid);
	cr_assert_eq(t_domid(conn, vm), -1);
	cr_assert_not(t_getb(conn, "VM", vm, "is_default_template"));
	/* read-only at construction: SR.type, PBD.device_config */
	struct json_object *srs = t_all_refs(conn, "SR"), *pbds = t_all_refs(conn, "PBD");
	T_ERR(t_set_str(conn, "SR", t_first(srs), "type", "nfs"), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "SR.set_type");
	cr_assert_str_eq(t_gets(conn, "SR", t_first(srs), "type"), "file");
	T_ERR(xvm_object_add_to_field(conn, "PBD", t_first(pbds), "device_config", "k", "v"),
	      XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "PBD.add_to_device_config");
	T_ERR(t_set_str(conn, "host", "OpaqueRef:whatever", "hostname", "x"), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1,
	      "host.set_hostname");
	/* unknown fields and classes */
	T_ERR(t_set_str(conn, "VM", vm, "no_such_field", "x"), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "VM.set_no_such_field");
	struct json_object *v = NULL;
	T_ERR(xvm_object_get_field(conn, "VM", vm, "no_such_field", &v), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1,
	      "VM.get_no_such_field");
	T_ERR(xvm_object_get_all(conn, "Nope", &v), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "Nope.get_all");
	cr_assert_null(v);
	json_object_put(srs);
	json_object_put(pbds);
	free(vm);
}

/* Each wrong value is refused with FIELD_TYPE_ERROR [field] and changes nothing. */
static void wrong_type(char *vm, const char *field, const char *json)
{
	struct json_object *before = t_get(conn, "VM", vm, field);
	char what[256];
	snprintf(what, sizeof(what), "VM.set_%s(%s)", field, json);
	t_check_error(what, t_set_json(conn, "VM", vm, field, json), XVM_ERR_FIELD_TYPE_ERROR, 1, field);
	struct json_object *after = t_get(conn, "VM", vm, field);
	cr_assert(json_object_equal(before, after), "%s changed %s: %s -> %s", what, field,
		  json_object_to_json_string(before), json_object_to_json_string(after));
	json_object_put(before);
	json_object_put(after);
}

Test(objects, wrong_types_refused)
{
	char *vm = t_install(conn, "types");
	wrong_type(vm, "VCPUs_max", "\"many\"");
	wrong_type(vm, "user_version", "\"12abc\"");
	wrong_type(vm, "user_version", "1.5");
	wrong_type(vm, "user_version", "true");
	wrong_type(vm, "user_version", "[1]");
	wrong_type(vm, "name_label", "5");
	wrong_type(vm, "name_label", "{\"a\": \"b\"}");
	wrong_type(vm, "actions_after_crash", "\"explode\"");
	wrong_type(vm, "actions_after_shutdown", "\"preserve\""); /* valid for crash only */
	wrong_type(vm, "actions_after_crash", "3");
	wrong_type(vm, "domain_type", "\"xen\"");
	wrong_type(vm, "other_config", "{\"a\": 1}");
	wrong_type(vm, "other_config", "{\"a\": \"ok\", \"b\": {\"c\": \"d\"}}");
	wrong_type(vm, "other_config", "[\"a\"]");
	wrong_type(vm, "other_config", "\"a=b\"");
	wrong_type(vm, "tags", "[1, 2]");
	wrong_type(vm, "tags", "\"tag\"");
	wrong_type(vm, "ha_always_run", "\"yes\"");
	wrong_type(vm, "ha_always_run", "1");
	wrong_type(vm, "affinity", "\"not a ref\"");
	wrong_type(vm, "HVM_shadow_multiplier", "\"fast\"");
	free(vm);
}

Test(objects, ref_field_must_name_an_object)
{
	char *vm = t_install(conn, "affine");
	T_ERR(t_set_str(conn, "VM", vm, "affinity", "OpaqueRef:nonexistent"), XVM_ERR_HANDLE_INVALID, 2, "host",
	      "OpaqueRef:nonexistent");
	cr_assert_str_eq(t_gets(conn, "VM", vm, "affinity"), "OpaqueRef:NULL");
	struct json_object *hosts = t_all_refs(conn, "host");
	T_OK(t_set_str(conn, "VM", vm, "affinity", t_first(hosts)));
	cr_assert_str_eq(t_gets(conn, "VM", vm, "affinity"), t_first(hosts));
	T_OK(t_set_str(conn, "VM", vm, "affinity", "OpaqueRef:NULL"));
	json_object_put(hosts);
	free(vm);
}

Test(objects, ints_as_decimal_strings_accepted)
{
	char *vm = t_install(conn, "strings");
	T_OK(t_set_str(conn, "VM", vm, "user_version", "42"));
	struct json_object *v = t_get(conn, "VM", vm, "user_version");
	cr_assert(json_object_is_type(v, json_type_int), "stored as %s", json_object_to_json_string(v));
	cr_assert_eq(json_object_get_int64(v), 42);
	json_object_put(v);
	T_OK(t_set_str(conn, "VM", vm, "memory_static_max", "268435456"));
	cr_assert_eq(t_geti(conn, "VM", vm, "memory_static_max"), 268435456);
	T_OK(t_set_str(conn, "VM", vm, "start_delay", "-3"));
	cr_assert_eq(t_geti(conn, "VM", vm, "start_delay"), -3);
	/* booleans as text, as xe sends them */
	T_OK(t_set_str(conn, "VM", vm, "ha_always_run", "true"));
	cr_assert(t_getb(conn, "VM", vm, "ha_always_run"));
	free(vm);
}

/* --- maps and sets ------------------------------------------------------------------ */

Test(objects, map_add_remove)
{
	char *vm = t_install(conn, "maps");
	struct json_object *oc = t_get(conn, "VM", vm, "other_config");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(oc, "purpose")), "test"); /* from the template */
	json_object_put(oc);
	T_OK(xvm_object_add_to_field(conn, "VM", vm, "other_config", "k1", "v1"));
	T_OK(xvm_object_add_to_field(conn, "VM", vm, "other_config", "k2", ""));
	T_ERR(xvm_object_add_to_field(conn, "VM", vm, "other_config", "k1", "other"), XVM_ERR_MAP_DUPLICATE_KEY, 2,
	      "other_config", "k1");
	T_ERR(xvm_object_add_to_field(conn, "VM", vm, "other_config", "purpose", "x"), XVM_ERR_MAP_DUPLICATE_KEY, 2,
	      "other_config", "purpose");
	oc = t_get(conn, "VM", vm, "other_config");
	cr_assert_eq(json_object_object_length(oc), 3);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(oc, "k1")), "v1", "duplicate add changed the value");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(oc, "k2")), "");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(oc, "purpose")), "test");
	json_object_put(oc);
	T_OK(xvm_object_remove_from_field(conn, "VM", vm, "other_config", "k1"));
	T_OK(xvm_object_remove_from_field(conn, "VM", vm, "other_config", "absent")); /* not an error */
	oc = t_get(conn, "VM", vm, "other_config");
	cr_assert_eq(json_object_object_length(oc), 2);
	cr_assert_not(json_object_object_get_ex(oc, "k1", NULL));
	json_object_put(oc);
	/* the generated methods by name, with XenAPI's argument counts */
	T_ERR(t_call(conn, "VM.add_to_platform", "[\"\", \"viridian\", \"true\"]", NULL), XVM_ERR_HANDLE_INVALID, 2, "VM",
	      "");
	char args[256];
	snprintf(args, sizeof(args), "[\"%s\", \"viridian\", \"true\"]", vm);
	T_OK(t_call(conn, "VM.add_to_platform", args, NULL));
	snprintf(args, sizeof(args), "[\"%s\", \"viridian\"]", vm);
	T_ERR(t_call(conn, "VM.add_to_platform", args, NULL), XVM_ERR_MESSAGE_PARAMETER_COUNT_MISMATCH, 3,
	      "VM.add_to_platform", "3", "2");
	T_OK(t_call(conn, "VM.remove_from_platform", args, NULL));
	struct json_object *plat = t_get(conn, "VM", vm, "platform");
	cr_assert_not(json_object_object_get_ex(plat, "viridian", NULL));
	json_object_put(plat);
	free(vm);
}

Test(objects, set_add_remove)
{
	char *vm = t_install(conn, "sets");
	struct json_object *tags = t_get(conn, "VM", vm, "tags");
	cr_assert_eq(t_len(tags), 0);
	json_object_put(tags);
	T_OK(xvm_object_add_to_field(conn, "VM", vm, "tags", "web", NULL));
	T_OK(xvm_object_add_to_field(conn, "VM", vm, "tags", "db", NULL));
	T_OK(xvm_object_add_to_field(conn, "VM", vm, "tags", "web", NULL)); /* a set: no duplicate */
	tags = t_get(conn, "VM", vm, "tags");
	cr_assert_eq(t_len(tags), 2, "tags: %s", json_object_to_json_string(tags));
	cr_assert(t_has(tags, "web"));
	cr_assert(t_has(tags, "db"));
	json_object_put(tags);
	T_OK(xvm_object_remove_from_field(conn, "VM", vm, "tags", "web"));
	T_OK(xvm_object_remove_from_field(conn, "VM", vm, "tags", "absent"));
	tags = t_get(conn, "VM", vm, "tags");
	cr_assert_eq(t_len(tags), 1);
	cr_assert(t_has(tags, "db"));
	json_object_put(tags);
	/* XenAPI names: add_tags / remove_tags, not add_to_tags */
	char args[256];
	snprintf(args, sizeof(args), "[\"%s\", \"x\"]", vm);
	T_OK(t_call(conn, "VM.add_tags", args, NULL));
	T_ERR(t_call(conn, "VM.add_to_tags", args, NULL), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "VM.add_to_tags");
	T_ERR(t_call(conn, "VM.add_other_config", args, NULL), XVM_ERR_MESSAGE_METHOD_UNKNOWN, 1, "VM.add_other_config");
	T_OK(t_set_json(conn, "VM", vm, "tags", "[\"a\", \"b\", \"c\"]"));
	tags = t_get(conn, "VM", vm, "tags");
	cr_assert_eq(t_len(tags), 3);
	json_object_put(tags);
	free(vm);
}

/* --- VM constraints ---------------------------------------------------------------- */

#define MiB (1024ll * 1024)

struct mem {
	int64_t smin, dmin, dmax, smax;
};

static struct mem memory_of(const char *vm)
{
	return (struct mem){ t_geti(conn, "VM", vm, "memory_static_min"), t_geti(conn, "VM", vm, "memory_dynamic_min"),
			     t_geti(conn, "VM", vm, "memory_dynamic_max"), t_geti(conn, "VM", vm, "memory_static_max") };
}

static void mem_refused(const char *vm, const char *field, int64_t value)
{
	struct mem before = memory_of(vm);
	char what[128];
	snprintf(what, sizeof(what), "VM.set_%s(%lld)", field, (long long)value);
	t_check_error(what, t_set_int(conn, "VM", vm, field, value), XVM_ERR_MEMORY_CONSTRAINT_VIOLATION, 1, NULL);
	struct mem after = memory_of(vm);
	cr_assert(memcmp(&before, &after, sizeof(before)) == 0, "%s changed the memory settings", what);
}

Test(objects, memory_constraints_enforced)
{
	char *vm = t_install(conn, "mem");
	/* sim test: 64 / 128 / 128 / 128 MiB */
	struct mem m = memory_of(vm);
	cr_assert_eq(m.smin, 64 * MiB);
	cr_assert_eq(m.dmin, 128 * MiB);
	cr_assert_eq(m.dmax, 128 * MiB);
	cr_assert_eq(m.smax, 128 * MiB);
	mem_refused(vm, "memory_dynamic_max", 256 * MiB); /* > static_max */
	mem_refused(vm, "memory_dynamic_min", 32 * MiB);  /* < static_min */
	mem_refused(vm, "memory_static_min", 256 * MiB);  /* > dynamic_min */
	mem_refused(vm, "memory_static_max", 96 * MiB);   /* < dynamic_max */
	/* in order, each step keeping the chain */
	T_OK(t_set_int(conn, "VM", vm, "memory_static_max", 512 * MiB));
	T_OK(t_set_int(conn, "VM", vm, "memory_dynamic_max", 512 * MiB));
	mem_refused(vm, "memory_dynamic_min", 1024 * MiB); /* > dynamic_max */
	T_OK(t_set_int(conn, "VM", vm, "memory_dynamic_min", 256 * MiB));
	T_OK(t_set_int(conn, "VM", vm, "memory_static_min", 256 * MiB)); /* equal is fine */
	m = memory_of(vm);
	cr_assert_eq(m.smin, 256 * MiB);
	cr_assert_eq(m.dmin, 256 * MiB);
	cr_assert_eq(m.dmax, 512 * MiB);
	cr_assert_eq(m.smax, 512 * MiB);
	free(vm);
}

Test(objects, vcpus_at_startup_above_max_refused)
{
	char *vm = t_install(conn, "vcpus");
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_max"), 2);
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_at_startup"), 1);
	T_ERR(t_set_int(conn, "VM", vm, "VCPUs_at_startup", 3), XVM_ERR_INVALID_VALUE, 2, "VCPUs_at_startup", "3");
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_at_startup"), 1);
	T_OK(t_set_int(conn, "VM", vm, "VCPUs_at_startup", 2));
	T_ERR(t_set_int(conn, "VM", vm, "VCPUs_max", 1), XVM_ERR_INVALID_VALUE, -1);
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_max"), 2);
	T_ERR(t_set_int(conn, "VM", vm, "VCPUs_at_startup", 0), XVM_ERR_INVALID_VALUE, -1);
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_at_startup"), 2);
	T_OK(t_set_int(conn, "VM", vm, "VCPUs_max", 4));
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_max"), 4);
	free(vm);
}

Test(objects, halted_only_fields_refused_while_running)
{
	char *vm = t_install(conn, "running");
	T_OK(xvm_vm_start(conn, vm, 0));
	cr_assert_str_eq(t_power(conn, vm), "Running");
	T_BAD_POWER(t_set_int(conn, "VM", vm, "memory_static_max", 256 * MiB), vm, "Halted", "Running");
	T_BAD_POWER(t_set_int(conn, "VM", vm, "VCPUs_max", 1), vm, "Halted", "Running");
	T_BAD_POWER(t_set_int(conn, "VM", vm, "memory_static_min", 32 * MiB), vm, "Halted", "Running");
	cr_assert_eq(t_geti(conn, "VM", vm, "memory_static_max"), 128 * MiB);
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_max"), 2);
	cr_assert_eq(t_geti(conn, "VM", vm, "memory_static_min"), 64 * MiB);
	/* other fields stay settable */
	T_OK(t_set_str(conn, "VM", vm, "name_label", "still running"));
	T_OK(xvm_object_add_to_field(conn, "VM", vm, "other_config", "k", "v"));
	T_OK(xvm_vm_pause(conn, vm));
	T_BAD_POWER(t_set_int(conn, "VM", vm, "VCPUs_max", 1), vm, "Halted", "Paused");
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	T_OK(t_set_int(conn, "VM", vm, "VCPUs_max", 1));
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_max"), 1);
	free(vm);
}
