/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record printer: alignment, RO/RW/M/S markers, maps, sets, refs, --minimal, --json. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "printer.h"

static const struct xvm_field_info *field(const char *cli_name)
{
	const struct xvm_field_info *f = cli_field_lookup(xvm_class_lookup("VM"), cli_name);
	cr_assert_not_null(f, "VM has no %s", cli_name);
	return f;
}

static int resolved;

static const char *fake_resolve(void *data, const char *cls, const char *ref)
{
	resolved++;
	cr_assert_str_eq(cls, "host");
	cr_assert_str_eq(ref, "OpaqueRef:h1");
	return data;
}

static struct json_object *record(void)
{
	return json_tokener_parse("{ \"uuid\": \"0b8c\", \"name_label\": \"web\", \"power_state\": \"Running\","
				  "  \"other_config\": { \"a\": \"1\", \"b\": \"two\" }, \"tags\": [ \"x\", \"y\" ],"
				  "  \"resident_on\": \"OpaqueRef:h1\", \"is_a_template\": false,"
				  "  \"VCPUs_max\": 2, \"platform\": {} }");
}

static char *print(enum cli_format fmt, const char *const *names, struct json_object **recs, size_t n)
{
	const struct xvm_field_info *fields[16];
	size_t nf = 0;
	for (; names[nf]; nf++)
		fields[nf] = field(names[nf]);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	cli_print_records(out, fmt, fields, nf, recs, n, fake_resolve, "host-uuid");
	fclose(out);
	return buf;
}

Test(printer, markers)
{
	cr_assert_str_eq(cli_field_marker(field("uuid")), "( RO)");
	cr_assert_str_eq(cli_field_marker(field("name-label")), "( RW)");
	cr_assert_str_eq(cli_field_marker(field("other-config")), "(MRW)");
	cr_assert_str_eq(cli_field_marker(field("bios-strings")), "(MRO)");
	cr_assert_str_eq(cli_field_marker(field("tags")), "(SRW)");
	cr_assert_str_eq(cli_field_marker(field("allowed-operations")), "(SRO)");
}

Test(printer, record_alignment_maps_sets_refs_enums)
{
	struct json_object *r = record();
	char *s = print(CLI_FORMAT_TEXT,
			(const char *[]){ "uuid", "name-label", "power-state", "other-config", "tags",
					  "resident-on", "is-a-template", "VCPUs-max", "platform", NULL },
			&r, 1);
	cr_assert_str_eq(s,
		"uuid ( RO)         : 0b8c\n"
		"   name-label ( RW): web\n"
		"  power-state ( RO): running\n"
		" other-config (MRW): a: 1; b: two\n"
		"         tags (SRW): x; y\n"
		"  resident-on ( RO): host-uuid\n"
		"is-a-template ( RW): false\n"
		"    VCPUs-max ( RW): 2\n"
		"     platform (MRW): \n");
	free(s);
	json_object_put(r);
}

Test(printer, records_separated_by_a_blank_line_missing_fields_skipped)
{
	struct json_object *recs[2] = { record(), json_tokener_parse("{ \"uuid\": \"77\" }") };
	char *s = print(CLI_FORMAT_TEXT, (const char *[]){ "uuid", "name-label", NULL }, recs, 2);
	cr_assert_str_eq(s, "uuid ( RO)      : 0b8c\nname-label ( RW): web\n\nuuid ( RO): 77\n");
	free(s);
	json_object_put(recs[0]);
	json_object_put(recs[1]);
}

Test(printer, minimal_is_the_first_field_comma_separated)
{
	struct json_object *recs[2] = { record(), json_tokener_parse("{ \"uuid\": \"77\", \"name_label\": \"db\" }") };
	char *s = print(CLI_FORMAT_MINIMAL, (const char *[]){ "uuid", "name-label", NULL }, recs, 2);
	cr_assert_str_eq(s, "0b8c,77\n");
	free(s);
	s = print(CLI_FORMAT_MINIMAL, (const char *[]){ "name-label", NULL }, recs, 2);
	cr_assert_str_eq(s, "web,db\n");
	free(s);
	s = print(CLI_FORMAT_MINIMAL, (const char *[]){ "uuid", NULL }, recs, 0);
	cr_assert_str_eq(s, "\n");
	free(s);
	json_object_put(recs[0]);
	json_object_put(recs[1]);
}

Test(printer, json_uses_cli_names_typed_values_and_uuids)
{
	struct json_object *r = record();
	resolved = 0;
	char *s = print(CLI_FORMAT_JSON, (const char *[]){ "uuid", "VCPUs-max", "other-config", "resident-on", NULL }, &r, 1);
	struct json_object *j = json_tokener_parse(s);
	cr_assert(json_object_is_type(j, json_type_array), "%s", s);
	struct json_object *o = json_object_array_get_idx(j, 0), *v;
	cr_assert(json_object_object_get_ex(o, "VCPUs-max", &v));
	cr_assert(json_object_is_type(v, json_type_int));
	cr_assert(json_object_object_get_ex(o, "other-config", &v));
	cr_assert(json_object_is_type(v, json_type_object));
	cr_assert(json_object_object_get_ex(o, "resident-on", &v));
	cr_assert_str_eq(json_object_get_string(v), "host-uuid");
	cr_assert_eq(resolved, 1);
	json_object_put(j);
	free(s);
	json_object_put(r);
}

Test(printer, single_value)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct json_object *v = json_tokener_parse("{ \"k\": \"v\" }");
	cli_print_value(out, CLI_FORMAT_TEXT, field("other-config"), v, NULL, NULL);
	fclose(out);
	cr_assert_str_eq(buf, "k: v\n");
	free(buf);
	json_object_put(v);
}
