/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM.install on sim:///DIR with the real file SR: the disks and CD drive a
 * template asks for, a VM converted to a template whose disks its installs
 * share copy-on-write (or copy in full), VM.clone and VM.copy, and a failed
 * install leaving nothing behind. qemu-img and qemu-io look at the images.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_common.h"

TestSuite(vm_install, .init = st_setup, .fini = st_teardown, .timeout = 120);

#define OTHER_MEDIA "Other install media"

/* The VM's VBD at userdevice, or NULL (a static buffer, 4 per thread). */
static const char *vbd_at(const char *v, const char *userdevice)
{
	static _Thread_local char ring[4][64];
	static _Thread_local unsigned next;
	char *found = ring[next++ % 4];
	struct json_object *vbds = t_get(conn, "VM", v, "VBDs");
	const char *out = NULL;
	for (size_t i = 0; i < t_len(vbds) && !out; i++) {
		const char *b = json_object_get_string(json_object_array_get_idx(vbds, i));
		if (strcmp(t_gets(conn, "VBD", b, "userdevice"), userdevice) == 0) {
			snprintf(found, sizeof(ring[0]), "%s", b);
			out = found;
		}
	}
	json_object_put(vbds);
	return out;
}

static const char *disk_file(const char *v, const char *userdevice)
{
	const char *b = vbd_at(v, userdevice);
	cr_assert_not_null(b, "VM %s has no drive %s", v, userdevice);
	return st_vdi_file(conn, t_gets(conn, "VBD", b, "VDI"));
}

/* The image at the bottom of a file's backing chain. */
static char *chain_root(const char *path)
{
	char *out = NULL;
	cr_assert_eq(st_sh(&out, "qemu-img info -U --backing-chain --output=json '%s'", path), 0, "%s", out);
	struct json_object *chain = json_tokener_parse(out), *f;
	free(out);
	cr_assert(json_object_is_type(chain, json_type_array) && json_object_array_length(chain) > 0);
	struct json_object *last = json_object_array_get_idx(chain, json_object_array_length(chain) - 1);
	cr_assert(json_object_object_get_ex(last, "filename", &f));
	char *root = strdup(json_object_get_string(f));
	json_object_put(chain);
	return root;
}

Test(vm_install, template_disks_and_cd_are_provisioned)
{
	char *v = NULL;
	T_OK(xvm_vm_install(conn, OTHER_MEDIA, "installer", 0, &v));
	const char *d0 = vbd_at(v, "0"), *cd = vbd_at(v, "3");
	cr_assert_not_null(d0, "no disk at 0");
	cr_assert_not_null(cd, "no CD drive at 3");
	const char *vdi = t_gets(conn, "VBD", d0, "VDI");
	cr_assert_eq(t_geti(conn, "VDI", vdi, "virtual_size"), 8LL * 1024 * MiB);
	cr_assert_str_eq(t_gets(conn, "VDI", vdi, "SR"), local_sr, "not in the pool's default SR");
	cr_assert(t_getb(conn, "VBD", d0, "bootable"));
	cr_assert_str_eq(t_gets(conn, "VBD", cd, "type"), "CD");
	cr_assert(t_getb(conn, "VBD", cd, "empty"));
	cr_assert_str_eq(t_gets(conn, "VBD", d0, "type"), "Disk");
	/* The spec is used up: the VM has its disks, the template keeps asking. */
	struct json_object *oc = t_get(conn, "VM", v, "other_config");
	cr_assert_not(json_object_object_get_ex(oc, "disks", NULL), "the new VM kept other_config:disks");
	json_object_put(oc);
	cr_assert_not(t_getb(conn, "VM", v, "is_a_template"));
	free(v);
}

Test(vm_install, sr_option_takes_the_new_disks)
{
	char location[4300];
	snprintf(location, sizeof(location), "%s/other-sr", dir);
	char *sr = st_file_sr(conn, location), *v = NULL;
	T_OK(xvm_vm_install_with(conn, OTHER_MEDIA, "elsewhere", t_gets(conn, "SR", sr, "uuid"), 0, &v));
	cr_assert_str_eq(t_gets(conn, "VDI", t_gets(conn, "VBD", vbd_at(v, "0"), "VDI"), "SR"), sr);
	free(v);
	free(sr);
}

/* vm1 with a 64 MiB disk holding pattern 0x11 in its first MiB, made a template. */
static char *disk_template(void)
{
	char *vdi = st_vdi(conn, local_sr, "base disk", 64 * MiB, "qcow2"), *vbd = NULL;
	T_OK(xvm_vbd_create(conn, vm, vdi, "0", "Disk", "RW", true, &vbd));
	st_write(st_vdi_file(conn, vdi), "qcow2", 0x11, "0", "1M");
	T_OK(t_set_str(conn, "VM", vm, "is_a_template", "true"));
	free(vbd);
	return vdi;
}

Test(vm_install, converting_needs_a_halted_vm_and_a_template_cannot_start)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	T_ERR(t_set_str(conn, "VM", vm, "is_a_template", "true"), XVM_ERR_VM_BAD_POWER_STATE, 3, vm, "halted",
	      "running");
	cr_assert_not(t_getb(conn, "VM", vm, "is_a_template"));
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	free(disk_template());
	cr_assert(t_getb(conn, "VM", vm, "is_a_template"));
	T_ERR(xvm_vm_start(conn, vm, 0), XVM_ERR_VM_IS_TEMPLATE, 1, vm);
}

Test(vm_install, installs_share_the_base_and_writes_stay_apart)
{
	char *base = disk_template(), *a = NULL, *b = NULL;
	T_OK(xvm_vm_install(conn, vm, "a", 0, &a));
	T_OK(xvm_vm_install(conn, vm, "b", 0, &b));
	char fa[4200], fb[4200];
	snprintf(fa, sizeof(fa), "%s", disk_file(a, "0"));
	snprintf(fb, sizeof(fb), "%s", disk_file(b, "0"));
	cr_assert_str_neq(fa, fb);
	cr_assert_str_neq(st_backing(fa), "", "%s is no copy-on-write image", fa);
	char *ra = chain_root(fa), *rb = chain_root(fb);
	cr_assert_str_eq(ra, rb, "the installs do not share a base: %s, %s", ra, rb);
	cr_assert(st_reads(fa, "qcow2", 0x11, "0", "1M") && st_reads(fb, "qcow2", 0x11, "0", "1M"));
	st_write(fa, "qcow2", 0x5a, "0", "1M");
	cr_assert(st_reads(fa, "qcow2", 0x5a, "0", "1M"));
	cr_assert(st_reads(fb, "qcow2", 0x11, "0", "1M"), "a write in one install shows in the other");
	cr_assert(st_reads(st_vdi_file(conn, base), "qcow2", 0x11, "0", "1M"), "the write reached the template");
	free(ra);
	free(rb);
	free(a);
	free(b);
	free(base);
}

Test(vm_install, copy_makes_a_full_copy)
{
	char location[4300];
	snprintf(location, sizeof(location), "%s/copies", dir);
	char *sr = st_file_sr(conn, location);
	char *base = disk_template(), *v = NULL;
	T_OK(xvm_vm_install_with(conn, vm, "full", sr, XVM_VM_INSTALL_COPY, &v));
	const char *vdi = t_gets(conn, "VBD", vbd_at(v, "0"), "VDI");
	cr_assert_str_eq(t_gets(conn, "VDI", vdi, "SR"), sr);
	const char *f = st_vdi_file(conn, vdi);
	cr_assert_str_eq(st_backing(f), "", "a full copy has a backing file");
	cr_assert(st_reads(f, "qcow2", 0x11, "0", "1M"));
	free(v);
	free(base);
	free(sr);
}

Test(vm_install, a_disk_outside_the_sr_given_is_copied_into_it)
{
	char location[4300];
	snprintf(location, sizeof(location), "%s/elsewhere", dir);
	char *sr = st_file_sr(conn, location), *base = disk_template(), *v = NULL, *w = NULL;
	T_OK(xvm_vm_install_with(conn, vm, "moved", sr, 0, &v));
	const char *vdi = t_gets(conn, "VBD", vbd_at(v, "0"), "VDI");
	cr_assert_str_eq(t_gets(conn, "VDI", vdi, "SR"), sr);
	cr_assert_str_eq(st_backing(st_vdi_file(conn, vdi)), "", "a copy into another SR has a backing file");
	cr_assert(st_reads(st_vdi_file(conn, vdi), "qcow2", 0x11, "0", "1M"));
	/* In the disk's own SR: copy-on-write still. */
	T_OK(xvm_vm_install_with(conn, vm, "same", local_sr, 0, &w));
	cr_assert_str_neq(st_backing(disk_file(w, "0")), "");
	free(v);
	free(w);
	free(base);
	free(sr);
}

Test(vm_install, clone_and_copy)
{
	char *vdi = st_vdi(conn, local_sr, "d", 32 * MiB, "qcow2"), *vbd = NULL, *c = NULL, *k = NULL;
	T_OK(xvm_vbd_create(conn, vm, vdi, "0", "Disk", "RW", true, &vbd));
	st_write(st_vdi_file(conn, vdi), "qcow2", 0x22, "0", "64k");
	T_OK(xvm_vm_start(conn, vm, 0));
	T_ERR(xvm_vm_clone(conn, vm, "c", &c), XVM_ERR_VM_BAD_POWER_STATE, 3, vm, "halted", "running");
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	T_OK(xvm_vm_clone(conn, vm, "c", &c));
	T_OK(xvm_vm_copy(conn, vm, "k", NULL, &k));
	cr_assert_not(t_getb(conn, "VM", c, "is_a_template"));
	cr_assert_str_eq(t_gets(conn, "VM", c, "name_label"), "c");
	cr_assert_str_neq(st_backing(disk_file(c, "0")), "");
	cr_assert_str_eq(st_backing(disk_file(k, "0")), "");
	cr_assert(st_reads(disk_file(c, "0"), "qcow2", 0x22, "0", "64k"));
	cr_assert(st_reads(disk_file(k, "0"), "qcow2", 0x22, "0", "64k"));
	free(c);
	free(k);
	free(vbd);
	free(vdi);
}

/* An install that fails at its last disk: counts VMs, VDIs, VBDs (and with files, the SR's images) before and after. */
static void install_fails_cleanly(bool files)
{
	size_t vms = t_count(conn, "VM"), vdis = t_count(conn, "VDI"), vbds = t_count(conn, "VBD");
	unsigned images = st_count(local_dir, "", "");
	char *v = NULL;
	T_ERR(xvm_vm_install(conn, vm, "half", 0, &v), XVM_ERR_HANDLE_INVALID, -1);
	cr_assert_null(v);
	cr_assert_eq(t_count(conn, "VM"), vms, "a VM was left");
	cr_assert_eq(t_count(conn, "VDI"), vdis, "a VDI was left");
	cr_assert_eq(t_count(conn, "VBD"), vbds, "a VBD was left");
	if (files)
		cr_assert_eq(st_count(local_dir, "", ""), images, "an image was left in the SR");
}

Test(vm_install, a_failure_half_way_leaves_nothing)
{
	/* The second disk's SR does not exist: the first disk and the VM must go. */
	T_OK(t_set_json(conn, "VM", vm, "other_config",
			"{\"disks\": \"<provision><disk device=\\\"1\\\" size=\\\"1048576\\\" sr=\\\"\\\" bootable=\\\"false\\\" type=\\\"system\\\"/>"
			"<cd device=\\\"3\\\"/>"
			"<disk device=\\\"2\\\" size=\\\"1048576\\\" sr=\\\"00000000-0000-4000-8000-000000000000\\\" bootable=\\\"false\\\" type=\\\"system\\\"/></provision>\"}"));
	T_OK(t_set_str(conn, "VM", vm, "is_a_template", "true"));
	install_fails_cleanly(true);
	/* With a disk of its own: its clone goes too (the template's disk stays on a
	 * new top over the base the clone shared, the same content). */
	T_OK(t_set_str(conn, "VM", vm, "is_a_template", "false"));
	char *base = disk_template();
	install_fails_cleanly(false);
	cr_assert(st_reads(st_vdi_file(conn, base), "qcow2", 0x11, "0", "1M"));
	free(base);
}

Test(vm_install, default_templates_stay)
{
	struct json_object *refs = NULL;
	T_OK(t_call(conn, "VM.get_by_name_label", "[\"" OTHER_MEDIA "\"]", &refs));
	const char *t = t_first(refs);
	T_ERR(xvm_vm_start(conn, t, 0), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	T_ERR(xvm_vm_destroy(conn, t), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	T_ERR(xvm_vm_uninstall(conn, t), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	T_ERR(t_set_str(conn, "VM", t, "is_a_template", "false"), XVM_ERR_VM_IS_TEMPLATE, 1, t);
	cr_assert(t_getb(conn, "VM", t, "is_a_template"));
	json_object_put(refs);
}

Test(vm_install, bad_options)
{
	char *v = NULL;
	T_ERR(xvm_vm_install(conn, "no such template", "x", 0, &v), XVM_ERR_UNKNOWN_TEMPLATE, 1, "no such template");
	T_ERR(xvm_vm_install_with(conn, OTHER_MEDIA, "x", "OpaqueRef:nope", 0, &v), XVM_ERR_HANDLE_INVALID, -1);
	T_ERR(xvm_vm_install_with(conn, OTHER_MEDIA, "x", NULL, 1u << 5, &v), XVM_ERR_INVALID_VALUE, -1);
	struct json_object *res = NULL;
	T_ERR(t_call(conn, "VM.install_with", "[\"" OTHER_MEDIA "\", \"x\", {\"colour\": \"red\"}]", &res),
	      XVM_ERR_INVALID_VALUE, -1);
	cr_assert_null(v);
}

Test(vm_install, provision_makes_the_disks_once)
{
	T_OK(t_set_json(conn, "VM", vm, "other_config",
			"{\"disks\": \"<provision><disk device=\\\"0\\\" size=\\\"2097152\\\" sr=\\\"\\\" bootable=\\\"true\\\" "
			"type=\\\"system\\\"/><cd device=\\\"3\\\"/></provision>\", \"keep\": \"me\"}"));
	char args[200];
	snprintf(args, sizeof(args), "[\"%s\"]", vm);
	struct json_object *res = NULL;
	T_OK(t_call(conn, "VM.provision", args, &res));
	cr_assert_not_null(vbd_at(vm, "0"));
	cr_assert_not_null(vbd_at(vm, "3"));
	cr_assert_eq(t_geti(conn, "VDI", t_gets(conn, "VBD", vbd_at(vm, "0"), "VDI"), "virtual_size"), 2 * MiB);
	struct json_object *oc = t_get(conn, "VM", vm, "other_config");
	cr_assert_not(json_object_object_get_ex(oc, "disks", NULL));
	cr_assert(json_object_object_get_ex(oc, "keep", NULL));
	json_object_put(oc);
	size_t vbds = t_count(conn, "VBD");
	T_OK(t_call(conn, "VM.provision", args, &res));
	cr_assert_eq(t_count(conn, "VBD"), vbds, "a second provision made more drives");
}

Test(vm_install, provision_failing_leaves_nothing)
{
	T_OK(t_set_json(conn, "VM", vm, "other_config",
			"{\"disks\": \"<provision><disk device=\\\"0\\\" size=\\\"2097152\\\" sr=\\\"\\\" bootable=\\\"true\\\" "
			"type=\\\"system\\\"/><cd device=\\\"3\\\"/><disk device=\\\"1\\\" size=\\\"1048576\\\" "
			"sr=\\\"00000000-0000-4000-8000-000000000000\\\"/></provision>\"}"));
	size_t vdis = t_count(conn, "VDI"), vbds = t_count(conn, "VBD");
	char args[200];
	snprintf(args, sizeof(args), "[\"%s\"]", vm);
	struct json_object *res = NULL;
	T_ERR(t_call(conn, "VM.provision", args, &res), XVM_ERR_HANDLE_INVALID, -1);
	cr_assert_eq(t_count(conn, "VDI"), vdis, "a VDI was left");
	cr_assert_eq(t_count(conn, "VBD"), vbds, "a VBD was left");
	struct json_object *oc = t_get(conn, "VM", vm, "other_config");
	cr_assert(json_object_object_get_ex(oc, "disks", NULL), "the spec went though nothing was made");
	json_object_put(oc);
	T_OK(xvm_vm_start(conn, vm, 0));
	T_ERR(t_call(conn, "VM.provision", args, &res), XVM_ERR_VM_BAD_POWER_STATE, 3, vm, "halted", "running");
}

/* VM.provision of other_config:disks `spec` on vm; returns the error code (0: made). */
static int provision(const char *spec)
{
	char oc[1024], args[200];
	snprintf(oc, sizeof(oc), "{\"disks\": \"%s\"}", spec);
	T_OK(t_set_json(conn, "VM", vm, "other_config", oc));
	snprintf(args, sizeof(args), "[\"%s\"]", vm);
	struct json_object *res = NULL;
	int r = t_call(conn, "VM.provision", args, &res);
	json_object_put(res);
	return r;
}

Test(vm_install, a_disk_from_a_template_image_holds_the_image)
{
	char images[4300], image[4400];
	snprintf(images, sizeof(images), "%s/images", dir);
	snprintf(image, sizeof(image), "%s/disk.raw", images);
	cr_assert_eq(mkdir(images, 0755), 0);
	t_write_file(image, "");
	cr_assert_eq(truncate(image, 3 * MiB / 2), 0);
	st_write(image, "raw", 0x22, "0", "1M");
	setenv("XVM_TEMPLATE_IMAGE_DIR", images, 1);

	/* No size: as big as the image. */
	T_OK(provision("<provision><disk device=\\\"0\\\" size=\\\"0\\\" sr=\\\"\\\" bootable=\\\"true\\\" "
		       "image=\\\"disk.raw\\\" format=\\\"raw\\\"/></provision>"));
	const char *vdi = t_gets(conn, "VBD", vbd_at(vm, "0"), "VDI");
	cr_assert_eq(t_geti(conn, "VDI", vdi, "virtual_size"), 3 * MiB / 2);
	cr_assert(st_reads(st_vdi_file(conn, vdi), "qcow2", 0x22, "0", "1M"), "the disk does not hold the image");

	/* A missing image: a clear error naming it, nothing made, the spec kept. */
	size_t vdis = t_count(conn, "VDI"), vbds = t_count(conn, "VBD");
	T_ERR(provision("<provision><disk device=\\\"1\\\" size=\\\"1048576\\\" sr=\\\"\\\" bootable=\\\"false\\\"/>"
			"<disk device=\\\"2\\\" size=\\\"0\\\" sr=\\\"\\\" image=\\\"gone.raw\\\" format=\\\"raw\\\"/></provision>"),
	      XVM_ERR_INVALID_VALUE, 2, "image", "gone.raw");
	cr_assert(strstr(xvm_last_error()->message, images), "%s", xvm_last_error()->message);
	cr_assert_eq(t_count(conn, "VDI"), vdis, "a VDI was left");
	cr_assert_eq(t_count(conn, "VBD"), vbds, "a VBD was left");
	/* An image outside the image directory (the spec is any API user's to write), an image
	 * without its format or of one qemu-img is not told, an empty disk of size 0: not a spec. */
	T_ERR(provision("<provision><disk device=\\\"2\\\" size=\\\"0\\\" sr=\\\"\\\" image=\\\"../../../../etc/passwd\\\" "
			"format=\\\"raw\\\"/></provision>"),
	      XVM_ERR_INVALID_VALUE, -1);
	T_ERR(provision("<provision><disk device=\\\"2\\\" size=\\\"0\\\" sr=\\\"\\\" image=\\\"/etc/passwd\\\" "
			"format=\\\"raw\\\"/></provision>"),
	      XVM_ERR_INVALID_VALUE, -1);
	T_ERR(provision("<provision><disk device=\\\"2\\\" size=\\\"0\\\" sr=\\\"\\\" image=\\\"disk.raw\\\" "
			"format=\\\"vvfat\\\"/></provision>"),
	      XVM_ERR_INVALID_VALUE, -1);
	cr_assert_eq(t_count(conn, "VDI"), vdis, "a VDI was left");
	T_ERR(provision("<provision><disk device=\\\"2\\\" size=\\\"0\\\" sr=\\\"\\\" image=\\\"disk.raw\\\"/></provision>"),
	      XVM_ERR_INVALID_VALUE, -1);
	T_ERR(provision("<provision><disk device=\\\"2\\\" size=\\\"0\\\" sr=\\\"\\\"/></provision>"), XVM_ERR_INVALID_VALUE, -1);
	unsetenv("XVM_TEMPLATE_IMAGE_DIR");
}
