/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* templates/: the YAML loader on files of our own, and the sync of the
 * built-in template directory into the store at connect. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "templates/yaml_loader.h"

#define UUID_A "11111111-1111-4111-8111-111111111111"
#define UUID_B "22222222-2222-4222-8222-222222222222"
#define UUID_C "33333333-3333-4333-8333-333333333333"

static char *dir;      /* state dir */
static char *tdir;     /* template dir */

static void setup(void)
{
	dir = t_tmpdir();
	tdir = t_tmpdir();
	setenv("XVM_TEMPLATE_DIR", tdir, 1);
}

static void teardown(void)
{
	t_rmdir(dir);
	t_rmdir(tdir);
	dir = tdir = NULL;
}

TestSuite(templates, .init = setup, .fini = teardown);

/* Writes tdir/name; returns its path (a static buffer: copy it to keep it). */
static const char *tfile(const char *name, const char *text)
{
	static char path[4200];
	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	t_write_file(path, text);
	return path;
}

static struct json_object *load_ok(const char *path)
{
	struct json_object *rec = NULL;
	int r = template_load_file(path, &rec);
	cr_assert_eq(r, 0, "template_load_file(%s): %d %s: %s", path, r, t_errname(), t_errmsg());
	cr_assert(json_object_is_type(rec, json_type_object));
	return rec;
}

/* Loading fails with TEMPLATE_INVALID [path, line], the message naming both,
 * and *record untouched. */
static void load_fails(const char *name, const char *text, int line, const char *message_part)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s", tfile(name, text));
	struct json_object *rec = (struct json_object *)0x1;
	char l[16], where[4300];
	snprintf(l, sizeof(l), "%d", line);
	t_check_error(name, template_load_file(path, &rec), XVM_ERR_TEMPLATE_INVALID, 2, path, l);
	cr_assert_eq(rec, (struct json_object *)0x1, "%s: output written on failure", name);
	snprintf(where, sizeof(where), "%s:%d:", path, line);
	const char *msg = xvm_last_error()->message;
	cr_assert(strstr(msg, where), "%s: the message does not say '%s': %s", name, where, msg);
	if (message_part)
		cr_assert(strstr(msg, message_part), "%s: the message does not mention '%s': %s", name, message_part,
			  msg);
}

/* --- the loader --------------------------------------------------------------------- */

Test(templates, valid_template_typed)
{
	const char *path = tfile("valid.yaml",
				 "# a comment\n"
				 "uuid: " UUID_A "\n"
				 "name_label: Valid one\n"
				 "name_description: \"quoted: with colon\"\n"
				 "VCPUs_max: 4\n"
				 "VCPUs_at_startup: 2\n"
				 "memory_static_min: 512MiB\n"
				 "memory_dynamic_min: 1GiB\n"
				 "memory_dynamic_max: 2GiB\n"
				 "memory_static_max: 2GiB\n"
				 "user_version: 3\n"
				 "ha_always_run: true\n"
				 "HVM_shadow_multiplier: 1.5\n"
				 "actions_after_crash: preserve\n"
				 "platform:\n"
				 "  acpi: \"true\"\n"
				 "  machine: q35\n"
				 "tags:\n"
				 "  - one\n"
				 "  - two\n"
				 "other_config: {install-methods: cdrom, number: 7}\n");
	struct json_object *rec = load_ok(path), *v;
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "uuid")), UUID_A);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "name_label")), "Valid one");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "name_description")), "quoted: with colon");
	static const struct {
		const char *field;
		int64_t value;
	} ints[] = {
		{ "VCPUs_max", 4 }, { "VCPUs_at_startup", 2 }, { "memory_static_min", 512ll << 20 },
		{ "memory_dynamic_min", 1ll << 30 }, { "memory_dynamic_max", 2ll << 30 },
		{ "memory_static_max", 2147483648ll }, { "user_version", 3 },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		cr_assert(json_object_object_get_ex(rec, ints[i].field, &v), "%s missing", ints[i].field);
		cr_assert(json_object_is_type(v, json_type_int), "%s is %s, not an int", ints[i].field,
			  json_object_to_json_string(v));
		cr_assert_eq(json_object_get_int64(v), ints[i].value, "%s", ints[i].field);
	}
	v = json_object_object_get(rec, "ha_always_run");
	cr_assert(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v));
	v = json_object_object_get(rec, "HVM_shadow_multiplier");
	cr_assert(json_object_is_type(v, json_type_double));
	cr_assert_float_eq(json_object_get_double(v), 1.5, 1e-12);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "actions_after_crash")), "preserve");
	v = json_object_object_get(rec, "platform");
	cr_assert(json_object_is_type(v, json_type_object));
	cr_assert_eq(json_object_object_length(v), 2);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(v, "machine")), "q35");
	v = json_object_object_get(rec, "tags");
	cr_assert_eq(t_len(v), 2);
	cr_assert(t_has(v, "one") && t_has(v, "two"));
	v = json_object_object_get(rec, "other_config");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(v, "number")), "7");
	cr_assert(json_object_is_type(json_object_object_get(v, "number"), json_type_string));
	/* only the fields the file gives */
	cr_assert_eq(json_object_object_length(rec), 16);
	json_object_put(rec);
}

Test(templates, the_builtin_files_load)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/sim-test.yaml", XVM_SOURCE_TEMPLATE_DIR_FOR_TESTS);
	struct json_object *rec = load_ok(path);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "name_label")), "sim test");
	cr_assert_eq(json_object_get_int64(json_object_object_get(rec, "memory_static_max")), 128ll << 20);
	json_object_put(rec);
	snprintf(path, sizeof(path), "%s/other-install-media.yaml", XVM_SOURCE_TEMPLATE_DIR_FOR_TESTS);
	rec = load_ok(path);
	cr_assert_eq(json_object_get_int64(json_object_object_get(rec, "memory_static_min")), 256ll << 20);
	json_object_put(rec);
}

static const char *oc_value(struct json_object *rec, const char *key)
{
	struct json_object *oc, *v;
	cr_assert(json_object_object_get_ex(rec, "other_config", &oc), "no other_config");
	return json_object_object_get_ex(oc, key, &v) ? json_object_get_string(v) : NULL;
}

Test(templates, disks_cd_nics_and_recommendations)
{
	struct json_object *rec = load_ok(tfile("prov.yaml", "uuid: " UUID_A "\nname_label: x\n"
							  "disks:\n"
							  "  - size: 8GiB\n    bootable: true\n    name: system & data\n"
							  "  - size: 1048576\n    sr: " UUID_B "\n"
							  "  - {size: 1MiB, sr: default}\n"
							  "  - size: 2MiB\n"
							  "cd: true\n"
							  "nics: [{network: lan}, {}]\n"
							  "recommendations:\n  memory_min: 1GiB\n  memory_max: 2GiB\n"
							  "  vcpus_min: 1\n  vcpus_max: 8\n"
							  "other_config:\n  install-methods: cdrom\n"));
	cr_assert_str_eq(oc_value(rec, "disks"),
			 "<provision><disk device=\"0\" size=\"8589934592\" sr=\"\" bootable=\"true\" type=\"system\" "
			 "name=\"system &amp; data\"/>"
			 "<disk device=\"1\" size=\"1048576\" sr=\"" UUID_B "\" bootable=\"false\" type=\"system\"/>"
			 "<disk device=\"2\" size=\"1048576\" sr=\"\" bootable=\"false\" type=\"system\"/>"
			 "<disk device=\"4\" size=\"2097152\" sr=\"\" bootable=\"false\" type=\"system\"/>"
			 "<cd device=\"3\"/></provision>");
	cr_assert_str_eq(oc_value(rec, "nics"), "2");
	cr_assert_str_eq(oc_value(rec, "nic-0-network"), "lan");
	cr_assert_null(oc_value(rec, "nic-1-network"));
	cr_assert_str_eq(oc_value(rec, "install-methods"), "cdrom");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(rec, "recommendations")),
			 "<restrictions><restriction field=\"memory-static-min\" min=\"1073741824\"/>"
			 "<restriction field=\"memory-static-max\" max=\"2147483648\"/>"
			 "<restriction field=\"vcpus-min\" min=\"1\"/><restriction field=\"vcpus-max\" max=\"8\"/></restrictions>");
	cr_assert_null(json_object_object_get(rec, "disks"));
	json_object_put(rec);
}

Test(templates, disks_from_images)
{
	struct json_object *rec = load_ok(tfile("img.yaml", "uuid: " UUID_A "\nname_label: x\n"
							 "disks:\n"
							 "  - image: guest.img\n    bootable: true\n"
							 "  - {image: sub/data.qcow2, format: qcow2, size: 1GiB}\n"));
	cr_assert_str_eq(oc_value(rec, "disks"),
			 "<provision><disk device=\"0\" size=\"0\" sr=\"\" bootable=\"true\" type=\"system\" "
			 "image=\"guest.img\" format=\"raw\"/>"
			 "<disk device=\"1\" size=\"1073741824\" sr=\"\" bootable=\"false\" type=\"system\" "
			 "image=\"sub/data.qcow2\" format=\"qcow2\"/></provision>");
	json_object_put(rec);
#define HEAD "uuid: " UUID_A "\nname_label: x\ndisks:\n"
	load_fails("i1.yaml", HEAD "  - image: /etc/passwd\n", 4, "disks/0/image");
	load_fails("i2.yaml", HEAD "  - image: ../../etc/passwd\n", 4, "no leading / or ..");
	load_fails("i3.yaml", HEAD "  - image: a/../../b\n", 4, "disks/0/image");
	load_fails("i4.yaml", HEAD "  - image: guest.img\n    format: iso\n", 5, "raw, qcow2, vhd or vmdk");
	load_fails("i5.yaml", HEAD "  - image: [a]\n", 4, "disks/0/image");
#undef HEAD
}

Test(templates, bad_disks_cd_nics_and_recommendations)
{
#define HEAD "uuid: " UUID_A "\nname_label: x\n"
	load_fails("d1.yaml", HEAD "disks: 8GiB\n", 3, "disks is a list");
	load_fails("d2.yaml", HEAD "disks:\n  - bootable: true\n", 4, "'size' is missing");
	load_fails("d3.yaml", HEAD "disks:\n  - size: 8GiB\n  - size: lots\n", 5, "disks/1/size");
	load_fails("d4.yaml", HEAD "disks:\n  - size: 8GiB\n    bootable: yes please\n", 5, "disks/0/bootable");
	load_fails("d5.yaml", HEAD "disks:\n  - size: 8GiB\n    colour: red\n", 5, "colour");
	load_fails("d6.yaml", HEAD "disks:\n  - size: 8GiB\n    sr: my-sr\n", 5, "default or an SR's UUID");
	load_fails("d7.yaml", HEAD "disks:\n  - 8GiB\n", 4, "disks/0 is a mapping");
	load_fails("d8.yaml", HEAD "disks:\n  - size: 0\n", 4, "above 0");
	load_fails("c1.yaml", HEAD "cd: maybe\n", 3, "cd takes true or false");
	load_fails("n1.yaml", HEAD "nics: 9\n", 3, "nics");
	load_fails("n2.yaml", HEAD "nics: [{network: [a]}]\n", 3, "nics/0/network");
	load_fails("r1.yaml", HEAD "recommendations:\n  vcpus_max: many\n", 4, "recommendations/vcpus_max");
	load_fails("r2.yaml", HEAD "recommendations:\n  memory_top: 1GiB\n", 4, "memory_top");
	load_fails("r3.yaml", HEAD "recommendations:\n  vcpus_min: 0\n", 4, "at least 1");
	load_fails("x1.yaml", HEAD "other_config:\n  disks: x\ncd: true\n", 3, "other_config:disks");
#undef HEAD
}

Test(templates, every_builtin_file_loads)
{
	struct dirent **names;
	int n = scandir(XVM_SOURCE_TEMPLATE_DIR_FOR_TESTS, &names, NULL, alphasort), yaml = 0;
	cr_assert_gt(n, 0);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(names[i]->d_name);
		if (l > 5 && strcmp(names[i]->d_name + l - 5, ".yaml") == 0) {
			char path[4200];
			snprintf(path, sizeof(path), "%s/%s", XVM_SOURCE_TEMPLATE_DIR_FOR_TESTS, names[i]->d_name);
			json_object_put(load_ok(path));
			yaml++;
		}
		free(names[i]);
	}
	free(names);
	cr_assert_geq(yaml, 18, "only %d built-in templates", yaml);
}

Test(templates, unknown_field)
{
	load_fails("unknown.yaml", "uuid: " UUID_A "\nname_label: x\nfrobnicity: 3\nVCPUs_max: 1\n", 3, "frobnicity");
}

Test(templates, read_only_fields)
{
	load_fails("ro.yaml", "uuid: " UUID_A "\nname_label: x\nVCPUs_max: 1\npower_state: Running\n", 4, "power_state");
	load_fails("ro2.yaml", "uuid: " UUID_A "\nname_label: x\ndomid: 3\n", 3, "domid");
	load_fails("ro3.yaml", "uuid: " UUID_A "\nname_label: x\nis_default_template: true\n", 3, "is_default_template");
	load_fails("reverse.yaml", "uuid: " UUID_A "\nname_label: x\nVBDs: []\n", 3, "VBDs");
	load_fails("computed.yaml", "uuid: " UUID_A "\n\nname_label: x\nallowed_operations: [start]\n", 4,
		   "allowed_operations");
}

Test(templates, wrong_types)
{
	load_fails("type.yaml", "uuid: " UUID_A "\nname_label: x\nVCPUs_max: many\n", 3, "VCPUs_max");
	load_fails("type2.yaml", "uuid: " UUID_A "\nname_label: x\n\n\nmemory_static_max: 2XB\n", 5, "memory_static_max");
	load_fails("type3.yaml", "uuid: " UUID_A "\nname_label: x\nactions_after_crash: explode\n", 3,
		   "actions_after_crash");
	load_fails("type4.yaml", "uuid: " UUID_A "\nname_label: x\nplatform: [a, b]\n", 3, "platform");
	load_fails("type5.yaml", "uuid: " UUID_A "\nname_label: x\ntags:\n  a: b\n", 3, "tags");
	load_fails("type6.yaml", "uuid: " UUID_A "\nname_label: x\nother_config:\n  k: [1, 2]\n", 3, "other_config");
	load_fails("type7.yaml", "uuid: " UUID_A "\nname_label: [a]\n", 2, "name_label");
	load_fails("type8.yaml", "uuid: " UUID_A "\nname_label: x\nha_always_run: maybe\n", 3, "ha_always_run");
}

Test(templates, missing_required_fields)
{
	load_fails("nouuid.yaml", "name_label: x\nVCPUs_max: 1\n", 1, "uuid");
	load_fails("noname.yaml", "uuid: " UUID_A "\nVCPUs_max: 1\n", 1, "name_label");
}

Test(templates, bad_uuid)
{
	load_fails("baduuid.yaml", "# first line\nuuid: not-a-uuid\nname_label: x\n", 2, "not-a-uuid");
	load_fails("baduuid2.yaml", "name_label: x\nVCPUs_max: 1\nuuid: 3e7b9d10-2c4f-4a8e-9f61\n", 3, NULL);
}

Test(templates, yaml_syntax_errors)
{
	load_fails("syntax.yaml", "uuid: " UUID_A "\nVCPUs_max: 1\nname_label: a: b\nmemory_static_max: 1GiB\n", 3,
		   "YAML");
	load_fails("syntax2.yaml", "uuid: " UUID_A "\nname_label: ok\nplatform:\n  acpi: \"1\"\n bad: 2\n", 5, "YAML");
}

Test(templates, not_a_mapping)
{
	load_fails("list.yaml", "- uuid\n- name_label\n", 1, NULL);
	load_fails("scalar.yaml", "just some text\n", 1, NULL);
	load_fails("empty.yaml", "", 1, NULL);
	load_fails("late.yaml", "# comment\n\n- a\n", 3, NULL);
}

Test(templates, duplicate_key_and_aliases)
{
	load_fails("dup.yaml", "uuid: " UUID_A "\nname_label: x\nVCPUs_max: 1\nname_label: y\n", 4, "name_label");
	load_fails("alias.yaml", "uuid: " UUID_A "\nname_label: &n x\nname_description: *n\n", 3, NULL);
}

Test(templates, unreadable_file)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/absent.yaml", tdir);
	struct json_object *rec = NULL;
	T_ERR(template_load_file(path, &rec), XVM_ERR_TEMPLATE_INVALID, -1);
	cr_assert_str_eq(xvm_last_error()->params[0], path);
	cr_assert(strstr(xvm_last_error()->message, path));
	cr_assert_null(rec);
}

/* --- built-in sync -------------------------------------------------------------------- */

static const char *tmpl(const char *uuid, const char *name, const char *extra)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
		 "uuid: %s\nname_label: %s\nVCPUs_max: 2\nmemory_static_min: 64MiB\nmemory_dynamic_min: 128MiB\n"
		 "memory_dynamic_max: 128MiB\nmemory_static_max: 128MiB\n%s",
		 uuid, name, extra ? extra : "");
	return buf;
}

static size_t default_templates(xvm_conn *c)
{
	struct json_object *all = NULL;
	T_OK(xvm_object_get_all_records(c, "VM", &all));
	size_t n = 0;
	json_object_object_foreach(all, ref, rec) {
		(void)ref;
		if (json_object_get_boolean(json_object_object_get(rec, "is_default_template")))
			n++;
	}
	json_object_put(all);
	return n;
}

static char *by_uuid(xvm_conn *c, const char *uuid)
{
	char *ref = NULL;
	T_OK(xvm_object_get_by_uuid(c, "VM", uuid, &ref));
	return ref;
}

/* Makes sure the file looks changed to a size+mtime check. */
static void bump_mtime(const char *path, int seconds)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	ts[1].tv_sec += seconds;
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

Test(templates, builtin_templates_appear)
{
	tfile("a.yaml", tmpl(UUID_A, "Template A", "is_a_template: false\n"));
	tfile("b.yaml", tmpl(UUID_B, "Template B", "other_config:\n  purpose: b\n"));
	tfile("README", "not a template\n");
	tfile("c.yml", "not: loaded\n");
	tfile(".hidden.yaml", "garbage: [\n");
	xvm_conn *c = t_connect(dir);
	cr_assert_eq(default_templates(c), 2);
	char *a = by_uuid(c, UUID_A), *b = by_uuid(c, UUID_B);
	cr_assert_str_eq(t_gets(c, "VM", a, "name_label"), "Template A");
	cr_assert(t_getb(c, "VM", a, "is_a_template"), "a built-in template must be a template whatever the file says");
	cr_assert(t_getb(c, "VM", a, "is_default_template"));
	cr_assert(t_getb(c, "VM", b, "is_a_template"));
	cr_assert(t_getb(c, "VM", b, "is_default_template"));
	cr_assert_eq(t_geti(c, "VM", b, "memory_dynamic_max"), 128ll << 20);
	cr_assert_str_eq(t_gets(c, "VM", b, "power_state"), "Halted");
	/* the source tree's templates are not there: the directory is ours */
	char *none = NULL;
	T_ERR(xvm_object_get_by_uuid(c, "VM", "3e7b9d10-2c4f-4a8e-9f61-0b5d7c2e8a14", &none), XVM_ERR_UUID_INVALID, -1);
	/* a second connect changes nothing */
	xvm_conn *c2 = t_connect(dir);
	cr_assert_eq(default_templates(c2), 2);
	char *a2 = by_uuid(c2, UUID_A);
	cr_assert_str_eq(a2, a);
	xvm_disconnect(c2);
	/* they install */
	char *vm = NULL;
	T_OK(xvm_vm_install(c, "Template B", "from b", 0, &vm));
	cr_assert_not(t_getb(c, "VM", vm, "is_default_template"));
	free(vm);
	free(a);
	free(a2);
	free(b);
	xvm_disconnect(c);
}

Test(templates, edited_file_updates_record)
{
	const char *p = tfile("a.yaml", tmpl(UUID_A, "Template A", NULL));
	char path[4200];
	snprintf(path, sizeof(path), "%s", p);
	xvm_conn *c = t_connect(dir);
	char *a = by_uuid(c, UUID_A);
	char *vm = NULL;
	T_OK(xvm_vm_install(c, UUID_A, "installed before", 0, &vm));
	xvm_disconnect(c);

	tfile("a.yaml", tmpl(UUID_A, "Template A renamed", "VCPUs_at_startup: 2\nname_description: edited\n"));
	bump_mtime(path, 10);
	c = t_connect(dir);
	char *a2 = by_uuid(c, UUID_A);
	cr_assert_str_eq(a2, a, "the template was recreated, not updated");
	cr_assert_str_eq(t_gets(c, "VM", a, "name_label"), "Template A renamed");
	cr_assert_str_eq(t_gets(c, "VM", a, "name_description"), "edited");
	cr_assert_eq(t_geti(c, "VM", a, "VCPUs_at_startup"), 2);
	cr_assert(t_getb(c, "VM", a, "is_default_template"));
	cr_assert_eq(default_templates(c), 1);
	/* the VM made from the old version keeps its own settings */
	cr_assert_eq(t_geti(c, "VM", vm, "VCPUs_at_startup"), 1);
	cr_assert_str_eq(t_gets(c, "VM", vm, "name_label"), "installed before");

	/* same size, only the mtime moves: still picked up */
	tfile("a.yaml", tmpl(UUID_A, "Template A renamex", "VCPUs_at_startup: 2\nname_description: edited\n"));
	bump_mtime(path, 20);
	xvm_disconnect(c);
	c = t_connect(dir);
	cr_assert_str_eq(t_gets(c, "VM", a, "name_label"), "Template A renamex");
	free(vm);
	free(a);
	free(a2);
	xvm_disconnect(c);
}

Test(templates, removed_file_removes_template)
{
	tfile("a.yaml", tmpl(UUID_A, "Template A", NULL));
	const char *p = tfile("b.yaml", tmpl(UUID_B, "Template B", NULL));
	char path_b[4200];
	snprintf(path_b, sizeof(path_b), "%s", p);
	xvm_conn *c = t_connect(dir);
	char *b = by_uuid(c, UUID_B);
	char *vm = NULL;
	T_OK(xvm_vm_install(c, "Template B", "child of b", 0, &vm));
	xvm_disconnect(c);

	cr_assert_eq(unlink(path_b), 0);
	c = t_connect(dir);
	cr_assert_eq(default_templates(c), 1);
	char *gone = NULL;
	T_ERR(xvm_object_get_by_uuid(c, "VM", UUID_B, &gone), XVM_ERR_UUID_INVALID, 2, "VM", UUID_B);
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(c, "VM", b, &rec), XVM_ERR_HANDLE_INVALID, 2, "VM", b);
	char *a = by_uuid(c, UUID_A);
	free(a);
	/* a VM installed from it stays */
	cr_assert_str_eq(t_gets(c, "VM", vm, "name_label"), "child of b");
	T_ERR(xvm_vm_install(c, "Template B", "x", 0, &gone), XVM_ERR_UNKNOWN_TEMPLATE, 1, "Template B");

	/* a new file appears */
	tfile("c.yaml", tmpl(UUID_C, "Template C", NULL));
	xvm_disconnect(c);
	c = t_connect(dir);
	cr_assert_eq(default_templates(c), 2);
	char *cc = by_uuid(c, UUID_C);
	free(cc);
	free(b);
	free(vm);
	xvm_disconnect(c);
}

Test(templates, uuid_change_replaces_template)
{
	const char *p = tfile("a.yaml", tmpl(UUID_A, "Template A", NULL));
	char path[4200];
	snprintf(path, sizeof(path), "%s", p);
	xvm_conn *c = t_connect(dir);
	xvm_disconnect(c);
	tfile("a.yaml", tmpl(UUID_C, "Template A", NULL));
	bump_mtime(path, 10);
	c = t_connect(dir);
	cr_assert_eq(default_templates(c), 1);
	char *none = NULL;
	T_ERR(xvm_object_get_by_uuid(c, "VM", UUID_A, &none), XVM_ERR_UUID_INVALID, -1);
	char *cc = by_uuid(c, UUID_C);
	free(cc);
	/* installing by name finds exactly one */
	char *vm = NULL;
	T_OK(xvm_vm_install(c, "Template A", "x", 0, &vm));
	free(vm);
	xvm_disconnect(c);
}

Test(templates, switching_template_dir)
{
	tfile("a.yaml", tmpl(UUID_A, "Template A", NULL));
	xvm_conn *c = t_connect(dir);
	xvm_disconnect(c);
	char *other = t_tmpdir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/b.yaml", other);
	t_write_file(path, tmpl(UUID_B, "Template B", NULL));
	setenv("XVM_TEMPLATE_DIR", other, 1);
	c = t_connect(dir);
	cr_assert_eq(default_templates(c), 1);
	char *b = by_uuid(c, UUID_B), *none = NULL;
	T_ERR(xvm_object_get_by_uuid(c, "VM", UUID_A, &none), XVM_ERR_UUID_INVALID, -1);
	free(b);
	xvm_disconnect(c);
	t_rmdir(other);
}

Test(templates, broken_template_fails_connect)
{
	tfile("a.yaml", tmpl(UUID_A, "Template A", NULL));
	xvm_conn *c = t_connect(dir);
	xvm_disconnect(c);
	const char *p = tfile("broken.yaml", tmpl(UUID_B, "Broken", "VCPUs_max: many\n"));
	char path[4200];
	snprintf(path, sizeof(path), "%s", p);
	c = NULL;
	T_ERR(xvm_connect(t_uri(dir), 0, &c), XVM_ERR_TEMPLATE_INVALID, 2, path, NULL);
	cr_assert_null(c);
	cr_assert(strstr(xvm_last_error()->message, "broken.yaml"), "%s", xvm_last_error()->message);
	/* again: the failure is not cached as success */
	T_ERR(xvm_connect(t_uri(dir), 0, &c), XVM_ERR_TEMPLATE_INVALID, 2, path, NULL);
	/* fixed: connect works, and the good template was kept throughout */
	tfile("broken.yaml", tmpl(UUID_B, "Fixed", NULL));
	bump_mtime(path, 10);
	c = t_connect(dir);
	cr_assert_eq(default_templates(c), 2);
	char *a = by_uuid(c, UUID_A), *b = by_uuid(c, UUID_B);
	cr_assert_str_eq(t_gets(c, "VM", b, "name_label"), "Fixed");
	free(a);
	free(b);
	xvm_disconnect(c);
}

Test(templates, missing_template_dir_still_connects)
{
	char missing[4200];
	snprintf(missing, sizeof(missing), "%s/does-not-exist", tdir);
	setenv("XVM_TEMPLATE_DIR", missing, 1);
	xvm_conn *c = t_connect(dir);
	cr_assert_eq(default_templates(c), 0);
	xvm_disconnect(c);
}
