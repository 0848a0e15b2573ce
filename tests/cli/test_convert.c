/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Field names and values from text to JSON, by the library's class metadata. */
#include <criterion/criterion.h>
#include <string.h>

#include "convert.h"

static const struct xvm_field_info *vm_field(const char *cli_name)
{
	const struct xvm_class_info *vm = xvm_class_lookup("VM");
	cr_assert_not_null(vm);
	const struct xvm_field_info *f = cli_field_lookup(vm, cli_name);
	cr_assert_not_null(f, "VM has no %s", cli_name);
	return f;
}

static struct json_object *ok(const char *field, const char *text)
{
	char err[256] = "";
	struct json_object *v = NULL;
	cr_assert_eq(cli_convert_value(vm_field(field), text, &v, err, sizeof(err)), 0, "%s=%s: %s", field, text, err);
	return v;
}

static void bad(const char *field, const char *text, const char *says)
{
	char err[256] = "";
	struct json_object *v = NULL;
	cr_assert_eq(cli_convert_value(vm_field(field), text, &v, err, sizeof(err)), -1, "%s=%s accepted", field, text);
	cr_assert_null(v);
	cr_assert(strstr(err, says), "%s=%s: '%s' lacks '%s'", field, text, err, says);
}

Test(convert, names_hyphenate_both_ways)
{
	const struct xvm_field_info *f = vm_field("VCPUs-max");
	cr_assert_str_eq(f->name, "VCPUs_max");
	char *n = cli_field_name(vm_field("HVM-boot-params"));
	cr_assert_str_eq(n, "HVM-boot-params");
	free(n);
	cr_assert_null(cli_field_lookup(xvm_class_lookup("VM"), "no-such-field"));
}

Test(convert, xe_names_of_references)
{
	cr_assert_str_eq(cli_field_lookup(xvm_class_lookup("VDI"), "sr-uuid")->name, "SR");
	cr_assert_str_eq(cli_field_lookup(xvm_class_lookup("VBD"), "vm-uuid")->name, "VM");
	cr_assert_str_eq(cli_field_lookup(xvm_class_lookup("VBD"), "vdi-uuid")->name, "VDI");
	cr_assert_str_eq(cli_field_lookup(xvm_class_lookup("PBD"), "host-uuid")->name, "host");
	cr_assert_null(cli_field_lookup(xvm_class_lookup("VM"), "sr-uuid"));
	cr_assert_null(cli_field_lookup(xvm_class_lookup("VM"), "uuid-uuid"));
	cr_assert_null(cli_field_lookup(xvm_class_lookup("VM"), "-uuid"));
	cr_assert_null(cli_field_lookup(xvm_class_lookup("VBD"), "mode-uuid"));    /* not a reference */
}

Test(convert, memory_units)
{
	int64_t b;
	cr_assert_eq(cli_parse_memory("512MiB", &b), 0);
	cr_assert_eq(b, 512ll << 20);
	cr_assert_eq(cli_parse_memory("2GiB", &b), 0);
	cr_assert_eq(b, 2ll << 30);
	cr_assert_eq(cli_parse_memory("1024KiB", &b), 0);
	cr_assert_eq(b, 1ll << 20);
	cr_assert_eq(cli_parse_memory("1TiB", &b), 0);
	cr_assert_eq(b, 1ll << 40);
	cr_assert_eq(cli_parse_memory("123", &b), 0);
	cr_assert_eq(b, 123);
	cr_assert_eq(cli_parse_memory("MiB", &b), -1);
	cr_assert_eq(cli_parse_memory("2 GiB", &b), -1);
	cr_assert_eq(cli_parse_memory("2GB", &b), -1);
	cr_assert_eq(cli_parse_memory("1.5GiB", &b), -1);
	cr_assert_eq(cli_parse_memory("99999999999GiB", &b), -1);   /* overflows int64 */

	struct json_object *v = ok("memory-static-max", "2GiB");
	cr_assert_eq(json_object_get_int64(v), 2ll << 30);
	json_object_put(v);
	bad("memory-static-max", "lots", "not a size");
	/* units are for memory fields only */
	bad("VCPUs-max", "2GiB", "not an integer");
}

Test(convert, scalars)
{
	struct json_object *v = ok("VCPUs-max", "4");
	cr_assert(json_object_is_type(v, json_type_int));
	cr_assert_eq(json_object_get_int64(v), 4);
	json_object_put(v);
	bad("VCPUs-max", "4x", "not an integer");
	bad("VCPUs-max", "", "not an integer");

	v = ok("HVM-shadow-multiplier", "1.5");
	cr_assert(json_object_is_type(v, json_type_double));
	json_object_put(v);
	bad("HVM-shadow-multiplier", "fast", "not a number");

	v = ok("is-a-template", "TRUE");
	cr_assert(json_object_get_boolean(v));
	json_object_put(v);
	bad("is-a-template", "yes", "not true or false");

	v = ok("name-label", "");
	cr_assert_str_eq(json_object_get_string(v), "");
	json_object_put(v);
}

Test(convert, enums_match_any_case_and_send_the_declared_spelling)
{
	struct json_object *v = ok("power-state", "running");
	cr_assert_str_eq(json_object_get_string(v), "Running");
	json_object_put(v);
	v = ok("actions-after-crash", "PRESERVE");
	cr_assert_str_eq(json_object_get_string(v), "preserve");
	json_object_put(v);
	bad("power-state", "sleeping", "expected one of");
}

Test(convert, datetime)
{
	struct json_object *v = ok("snapshot-time", "20260131T12:00:00Z");
	cr_assert_str_eq(json_object_get_string(v), "20260131T12:00:00Z");
	json_object_put(v);
	bad("snapshot-time", "yesterday", "date and time");
	bad("snapshot-time", "2026-01-31T12:00:00Z", "date and time");
}

Test(convert, sets_and_maps)
{
	struct json_object *v = ok("tags", "a,b,c");
	cr_assert(json_object_is_type(v, json_type_array));
	cr_assert_eq(json_object_array_length(v), 3);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 2)), "c");
	json_object_put(v);
	v = ok("tags", "");
	cr_assert_eq(json_object_array_length(v), 0);
	json_object_put(v);
	bad("other-config", "a=b", "one key at a time");
}

Test(convert, references_stay_text_for_the_caller_to_resolve)
{
	struct json_object *v = ok("affinity", "my-host");
	cr_assert_str_eq(json_object_get_string(v), "my-host");
	json_object_put(v);
}
