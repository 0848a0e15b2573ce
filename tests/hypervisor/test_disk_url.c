/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disk images named by nfs:// URL: the URL checks both backends make (no
 * stat() of a URL, other schemes refused), and the blockdev JSON the qemu
 * backend gives QEMU for one, on the command line and for blockdev-add. No
 * NFS server is needed: what QEMU does with the JSON is test_qemu_disk.c's.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "config_check.h"
#include "hvtest.h"
#include "qemu/qemu.h"
#include "url.h"

static struct xvm_hc_disk_config disk_at(const char *path, uint32_t position)
{
	struct xvm_hc_disk_config d = { .kind = XVM_HC_DISK, .position = position, .format = "qcow2" };

	snprintf(d.path, sizeof d.path, "%s", path);
	return d;
}

static void parses(const char *url, const char *host, const char *path)
{
	struct hv_nfs_url u;
	int r = hv_nfs_url_parse("disk", url, &u);

	cr_assert_eq(r, 0, "%s: %s", url, xvm_hv_last_error(NULL));
	cr_assert_str_eq(u.host, host, "%s", url);
	cr_assert_str_eq(u.path, path, "%s", url);
}

/* Refused with -EINVAL and a detail that says why (`why` is part of it). */
static void refused(const char *url, const char *why)
{
	struct hv_nfs_url u = { .host = "untouched" };
	struct xvm_hc_disk_config d = disk_at(url, 2);

	cr_assert_eq(hv_nfs_url_parse("disk", url, &u), -EINVAL, "%s", url);
	cr_assert_str_eq(u.host, "untouched", "output written on failure");
	cr_assert(strstr(xvm_hv_last_error(NULL), why), "%s: '%s' lacks '%s'", url, xvm_hv_last_error(NULL), why);
	/* Both backends' disk checks refuse it the same way, and the qemu one stats nothing. */
	cr_assert_eq(hv_disk_check(&d), -EINVAL, "%s", url);
	cr_assert_eq(qemu_disk_check(&d), -EINVAL, "%s", url);
}

Test(disk_url, what_is_a_url)
{
	cr_assert(hv_path_is_url("nfs://h/e/f"));
	cr_assert(hv_path_is_url("NFS://h/e/f"));
	cr_assert(hv_path_is_url("git+ssh://h/x"));
	cr_assert_not(hv_path_is_url("/srv/sr/nfs://x"));
	cr_assert_not(hv_path_is_url("disk.qcow2"));
	cr_assert_not(hv_path_is_url("nfs:/h/e/f"));
	cr_assert_not(hv_path_is_url("1nfs://h/e/f"));
	cr_assert_not(hv_path_is_url("json:{\"driver\": \"nfs\"}"));
	cr_assert_not(hv_path_is_url(""));
}

Test(disk_url, nfs_urls_parse)
{
	parses("nfs://filer/export/vm/disk.qcow2", "filer", "/export/vm/disk.qcow2");
	parses("nfs://192.0.2.7/e/d.raw", "192.0.2.7", "/e/d.raw");
	parses("NFS://Filer.example.org/e/d", "Filer.example.org", "/e/d");
	parses("nfs://[2001:db8::1]/e/d", "2001:db8::1", "/e/d");
	parses("nfs://filer/e/my%20disk%2c1.qcow2", "filer", "/e/my disk,1.qcow2");
}

Test(disk_url, bad_urls_are_refused_with_the_reason)
{
	refused("http://filer/e/d", "scheme 'http' is not supported");
	refused("iscsi://filer/iqn/0", "scheme 'iscsi'");
	refused("nfs://filer:2049/e/d", "portmapper");
	refused("nfs://[::1]:2049/e/d", "port");
	refused("nfs://root@filer/e/d", "user");
	refused("nfs:///e/d", "names no server");
	refused("nfs://filer", "no export");
	refused("nfs://filer/", "no export");
	refused("nfs://filer/disk", "no export");
	refused("nfs://filer/e/", "no export");
	refused("nfs://filer/e/d?uid=0", "query");
	refused("nfs://filer/e/d#x", "fragment");
	refused("nfs://filer/e/d%2", "escape");
	refused("nfs://filer/e/d%zz", "escape");
	refused("nfs://filer/e/d%00x", "NUL");
	refused("nfs://fi%6cer/e/d", "malformed host");
	refused("nfs://[::1/e/d", "IPv6");
	refused("nfs://[]/e/d", "IPv6");
}

Test(disk_url, a_url_is_not_stat_ed_but_a_missing_file_is_enoent)
{
	struct xvm_hc_disk_config nfs = disk_at("nfs://filer.invalid/e/vm/disk.qcow2", 1);
	struct xvm_hc_disk_config cd = { .kind = XVM_HC_CDROM, .position = 3, .path = "nfs://f/iso/debian.iso" };
	struct xvm_hc_disk_config missing = disk_at("/nonexistent/disk.qcow2", 1);

	cr_assert_eq(qemu_disk_check(&nfs), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(qemu_disk_check(&cd), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(qemu_disk_check(&missing), -ENOENT);
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s in %s", key, json_object_to_json_string(o));
	return v;
}

static void assert_nfs_node(struct json_object *o, const char *host, const char *path, const char *name, bool ro)
{
	struct json_object *server = field(o, "server");

	cr_assert_str_eq(json_object_get_string(field(o, "driver")), "nfs");
	cr_assert_str_eq(json_object_get_string(field(server, "type")), "inet");
	cr_assert_str_eq(json_object_get_string(field(server, "host")), host);
	cr_assert_eq(json_object_object_length(server), 2, "server has more than type and host: %s",
		     json_object_to_json_string(server));
	cr_assert_str_eq(json_object_get_string(field(o, "path")), path);
	cr_assert_str_eq(json_object_get_string(field(o, "node-name")), name);
	cr_assert_eq(json_object_get_boolean(field(o, "read-only")), ro);
	cr_assert_not(json_object_object_get_ex(o, "filename", NULL), "an nfs node has no filename");
}

Test(disk_url, blockdev_json_for_hot_plug_and_overlays)
{
	struct xvm_hc_disk_config d = disk_at("nfs://[2001:db8::5]/exp/vms/a%20b.qcow2", 7);
	struct xvm_hc_disk_config local = disk_at("/srv/sr/nfs:x.qcow2", 7);
	struct json_object *o;

	o = qemu_disk_file_node(&d, 0);
	assert_nfs_node(o, "2001:db8::5", "/exp/vms/a b.qcow2", "file7", false);
	json_object_put(o);
	o = qemu_disk_file_node(&d, 3); /* the third image put on it */
	assert_nfs_node(o, "2001:db8::5", "/exp/vms/a b.qcow2", "file7.3", false);
	json_object_put(o);
	o = qemu_disk_format_node(&d, 3);
	cr_assert_str_eq(json_object_get_string(field(o, "driver")), "qcow2");
	cr_assert_str_eq(json_object_get_string(field(o, "file")), "file7.3");
	cr_assert_str_eq(json_object_get_string(field(o, "node-name")), "drv7.3");
	json_object_put(o);
	/* A local name, however it looks, is a file for the file driver, never a protocol. */
	o = qemu_disk_file_node(&local, 0);
	cr_assert_str_eq(json_object_get_string(field(o, "driver")), "file");
	cr_assert_str_eq(json_object_get_string(field(o, "filename")), "/srv/sr/nfs:x.qcow2");
	json_object_put(o);
}

Test(disk_url, command_line_of_a_domain_on_nfs)
{
	static struct qdom d;
	char **argv = NULL;
	int blockdevs = 0, r;

	hvt_config(&d.cfg, 1, 65536);
	d.lock_fd = -1;
	d.accel = XVM_HC_ACCEL_TCG;
	strcpy(d.dir, "/run/xvm-test/1");
	strcpy(d.cfg.disks[0].path, "nfs://filer/export/vm1/disk0.qcow2");
	strcpy(d.cfg.disks[1].path, "nfs://filer/iso/debian.iso");
	strcpy(d.cfg.disks[1].format, "raw");
	r = qemu_cmdline(&d, "/usr/bin/qemu-system-x86_64", NULL, &argv);
	cr_assert_eq(r, 0, "%s", xvm_hv_last_error(NULL));
	for (int i = 0; argv[i]; i++) {
		struct json_object *o;
		if (strcmp(argv[i], "-blockdev"))
			continue;
		o = json_tokener_parse(argv[++i]);
		cr_assert(o, "-blockdev %s is not JSON", argv[i]);
		switch (blockdevs++) {
		case 0:
			assert_nfs_node(o, "filer", "/export/vm1/disk0.qcow2", "file0", false);
			break;
		case 1:
			cr_assert_str_eq(json_object_get_string(field(o, "driver")), "qcow2");
			cr_assert_str_eq(json_object_get_string(field(o, "file")), "file0");
			break;
		case 2: /* the CD: read-only, whatever the config says */
			assert_nfs_node(o, "filer", "/iso/debian.iso", "file3", true);
			break;
		case 3:
			cr_assert_str_eq(json_object_get_string(field(o, "driver")), "raw");
			cr_assert_str_eq(json_object_get_string(field(o, "node-name")), "drv3");
			break;
		}
		json_object_put(o);
	}
	cr_assert_eq(blockdevs, 4);
	qemu_argv_free(argv);
}

Test(disk_url, sim_takes_nfs_disks_and_refuses_other_schemes)
{
	static struct xvm_hc_domain_config c;
	struct xvm_hv *hv;
	char *dir = hvt_tmpdir();
	uint32_t domid = 0;

	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	hvt_config(&c, 1, 65536);
	strcpy(c.disks[0].path, "nfs://filer/export/vm1/disk0.qcow2");
	cr_assert_eq(hvt_create_cfg(hv, &c, &domid), 0, "%s", xvm_hv_last_error(hv));
	hvt_config(&c, 2, 65536);
	strcpy(c.disks[0].path, "smb://filer/share/disk0.qcow2");
	cr_assert_eq(hvt_create_cfg(hv, &c, NULL), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(hv), "'smb' is not supported"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_list_count(hv), 1);
	xvm_hv_close(hv);
	hvt_rmdir(dir);
}
