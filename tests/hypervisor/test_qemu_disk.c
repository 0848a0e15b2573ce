/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DISK_RESIZE, DISK_SNAPSHOT and DISK_GET_INFO with real QEMUs (TCG) and
 * the 96-byte test guest, looked at from outside: a QMP connection of the
 * test's own, qemu-img and qemu-io on the images. The guest's own writes are
 * played by QEMU's HMP qemu-io through the disk's device, which is what a
 * guest's writes go through. What a Linux guest sees is
 * test_qemu_disk_linux.c's. Skipped only if qemu-system-x86_64 is absent.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HVT_QEMU_FIXTURE
#include "hvtest.h"
#include "qemu/qmp.h"
#include "qemutest.h"

TestSuite(qemu_disk, .init = hvt_qemu_setup, .fini = hvt_qemu_teardown, .timeout = 120);

#define MiB (1024u * 1024u)

/* QEMU's HMP qemu-io on the device: the guest's path to the disk. It says only what failed. */
static void guest_writes(uint32_t domid, uint32_t pos, const char *io)
{
	char line[256];
	struct json_object *args = json_object_new_object(), *out;

	snprintf(line, sizeof line, "qemu-io -d disk%u \"%s\"", pos, io);
	json_object_object_add(args, "command-line", json_object_new_string(line));
	out = hvt_qmp(domid, "human-monitor-command", args);
	cr_assert_str_empty(json_object_get_string(out), "%s: %s", line, json_object_get_string(out));
	json_object_put(out);
}

/* The JSON a command prints (qemu-img ... --output=json). */
static struct json_object *json_of(const char *fmt, ...)
{
	static char buf[1 << 16];
	char cmd[4096];
	va_list ap;
	size_t n;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s", cmd);
	return json_tokener_parse(buf);
}

static void image(const char *path, const char *fmt, const char *size)
{
	cr_assert_eq(hvt_sh("qemu-img create -q -f %s '%s' %s", fmt, path, size), 0);
}

static void overlay_of(const char *ov, const char *backing, const char *fmt, const char *size)
{
	cr_assert_eq(hvt_sh("qemu-img create -q -f qcow2 -b '%s' -F %s -u '%s' %s", backing, fmt, ov, size), 0);
}

/* The test guest with `disk` (a path, format) as its disk at position pos; running. */
static uint32_t guest_with_disk(uint32_t pos, const char *path, const char *fmt)
{
	uint32_t domid;

	hvt_guest_config(&cfg, 1, "idle");
	cfg.disks[cfg.ndisks] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = pos };
	snprintf(cfg.disks[cfg.ndisks].path, sizeof cfg.disks[0].path, "%s", path);
	snprintf(cfg.disks[cfg.ndisks++].format, sizeof cfg.disks[0].format, "%s", fmt);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	return domid;
}

Test(qemu_disk, resize_a_hot_plugged_virtio_disk)
{
	struct xvm_hc_disk_config q = { .kind = XVM_HC_DISK, .position = 1, .format = "qcow2" };
	struct xvm_hc_disk_config r = { .kind = XVM_HC_DISK, .position = 2, .format = "raw" };
	struct xvm_hc_disk_info i;
	char node[64];
	struct stat st;
	uint32_t d;

	REQUIRE_QEMU();
	snprintf(q.path, sizeof q.path, "%s/q.qcow2", dir);
	snprintf(r.path, sizeof r.path, "%s/r.raw", dir);
	image(q.path, "qcow2", "1M");
	image(r.path, "raw", "1M");
	d = hvt_start_guest(hv, 1, "idle");
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, d, &q), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, d, &r), 0, "%s", xvm_hv_last_error(hv));
	i = hvt_disk_info(hv, d, 1);
	cr_assert_str_eq(i.disk.path, q.path);
	cr_assert_eq(i.size_bytes, MiB);
	cr_assert(i.resize_online);

	cr_assert_eq(hvt_disk_resize(hv, d, 1, 3 * MiB), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_device_size(d, 1, node), 3 * MiB, "QEMU's virtio-blk device has the new size");
	cr_assert_str_eq(node, "drv1");
	cr_assert_eq(hvt_disk_info(hv, d, 1).size_bytes, 3 * MiB);
	cr_assert_eq(hvt_disk_resize(hv, d, 2, 5 * MiB), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_device_size(d, 2, node), 5 * MiB);
	cr_assert(stat(r.path, &st) == 0 && st.st_size == 5 * MiB, "the raw image grew");

	cr_assert_eq(hvt_disk_resize(hv, d, 1, 3 * MiB), 0, "the current size is no change");
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 2 * MiB), -EINVAL, "shrinking");
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 4 * MiB + 1), -EINVAL, "not whole sectors");
	cr_assert_eq(hvt_disk_resize(hv, d, 9, 4 * MiB), -ENOENT);
	cr_assert_eq(hvt_device_size(d, 1, node), 3 * MiB, "refusals change nothing");

	/* A later process re-adopting the domain finds the same. */
	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(hvt_disk_info(hv, d, 1).size_bytes, 3 * MiB);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
	cr_assert_eq(hvt_sh("qemu-img info '%s' | grep -q '^virtual size: 3 MiB'", q.path), 0, "the image grew");
}

Test(qemu_disk, ide_disks_and_cd_drives_are_not_resized)
{
	char path[600], node[64];
	uint32_t d;

	REQUIRE_QEMU();
	snprintf(path, sizeof path, "%s/ide.qcow2", dir);
	image(path, "qcow2", "1M");
	d = guest_with_disk(0, path, "qcow2");
	cr_assert_not(hvt_disk_info(hv, d, 0).resize_online);
	cr_assert_eq(hvt_disk_resize(hv, d, 0, 2 * MiB), -EOPNOTSUPP);
	cr_assert(strstr(xvm_hv_last_error(hv), "IDE"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_device_size(d, 0, node), MiB, "unchanged");
	cr_assert_eq(hvt_disk_resize(hv, d, 3, 2 * MiB), -EINVAL, "a CD drive");
	/* Once the guest is gone, as on the sim: only destroy is left. */
	cr_assert_eq(hvt_guest_action(hv, d, XVM_HC_SHUTDOWN_CRASH), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_resize(hv, d, 9, 2 * MiB), -EINVAL);
	cr_assert_eq(hvt_disk_snapshot(hv, d, 0, path, "qcow2"), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(hv), "only destroy"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
}

Test(qemu_disk, snapshot_diverts_the_guests_writes_to_the_overlay)
{
	char base[600], ov[600], node[64];
	struct json_object *chain, *map, *v;
	uint32_t d;

	REQUIRE_QEMU();
	snprintf(base, sizeof base, "%s/base.qcow2", dir);
	snprintf(ov, sizeof ov, "%s/overlay.qcow2", dir);
	image(base, "qcow2", "1M");
	cr_assert_eq(hvt_sh("qemu-io -c 'write -q -P 0x11 0 64k' '%s'", base), 0);
	d = guest_with_disk(0, base, "qcow2"); /* IDE: HMP's qemu-io reaches it through its device */
	guest_writes(d, 0, "write -P 0xaa 64k 64k");
	cr_assert_neq(hvt_sh("qemu-img info '%s' >/dev/null 2>&1", base), 0, "QEMU holds the base for writing");

	overlay_of(ov, base, "qcow2", "1M");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 0, ov, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_str_eq(hvt_disk_info(hv, d, 0).disk.path, ov);
	cr_assert_eq(hvt_device_size(d, 0, node), MiB);
	cr_assert_str_eq(node, "drv0.1", "the device's medium is the overlay");
	cr_assert_eq(hvt_sh("qemu-img info '%s' >/dev/null 2>&1", base), 0, "the base is read-only now: not locked");
	cr_assert_neq(hvt_sh("qemu-img info '%s' >/dev/null 2>&1", ov), 0, "QEMU holds the overlay for writing");
	guest_writes(d, 0, "write -P 0xbb 128k 64k");
	guest_writes(d, 0, "write -P 0xcc 0 4k");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);

	/* The base holds what was written before the snapshot, and nothing after. */
	cr_assert_eq(hvt_sh("qemu-io -r -c 'read -q -P 0x11 0 64k' -c 'read -q -P 0xaa 64k 64k' "
			    "-c 'read -q -P 0 128k 64k' '%s'", base), 0, "the base changed after the snapshot");
	/* Through the chain, everything; the overlay holds the clusters written after the snapshot. */
	cr_assert_eq(hvt_sh("qemu-io -r -c 'read -q -P 0xcc 0 4k' -c 'read -q -P 0x11 4k 60k' "
			    "-c 'read -q -P 0xaa 64k 64k' -c 'read -q -P 0xbb 128k 64k' '%s'", ov), 0);
	map = json_of("qemu-img map --output=json '%s'", ov);
	cr_assert(map && json_object_array_length(map) >= 3);
	for (size_t i = 0; i < 3; i++) {
		struct json_object *e = json_object_array_get_idx(map, i);
		cr_assert(json_object_object_get_ex(e, "start", &v));
		cr_assert_eq(json_object_get_int64(v), (int64_t)(i * 65536));
		cr_assert(json_object_object_get_ex(e, "depth", &v));
		cr_assert_eq(json_object_get_int(v), i == 1 ? 1 : 0, "cluster %zu: depth %d", i, json_object_get_int(v));
	}
	json_object_put(map);
	chain = json_of("qemu-img info --backing-chain --output=json '%s'", ov);
	cr_assert_eq(json_object_array_length(chain), 2, "the chain is base <- overlay");
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(chain, 0), "backing-filename", &v));
	cr_assert_str_eq(json_object_get_string(v), base);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(chain, 1), "filename", &v));
	cr_assert_str_eq(json_object_get_string(v), base);
	json_object_put(chain);
}

/* Two snapshots of a virtio disk given at start; a later process and a save/restore know them. */
Test(qemu_disk, snapshots_are_readopted_saved_and_restored)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(0) };
	struct xvm_hc_domain_restore r = { .head = XVM_HC_HEAD(0), .config = &cfg };
	char base[600], ov1[600], ov2[600], node[64];
	struct xvm_hc_disk_info i;

	REQUIRE_QEMU();
	snprintf(base, sizeof base, "%s/base.raw", dir);
	snprintf(ov1, sizeof ov1, "%s/ov1.qcow2", dir);
	snprintf(ov2, sizeof ov2, "%s/ov2.qcow2", dir);
	image(base, "raw", "1M");
	s.domid = guest_with_disk(6, base, "raw");
	overlay_of(ov1, base, "raw", "1M");
	cr_assert_eq(hvt_disk_snapshot(hv, s.domid, 6, ov1, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	overlay_of(ov2, "ov1.qcow2", "qcow2", "1M"); /* relative to the overlay, as qemu-img allows */
	cr_assert_eq(hvt_disk_snapshot(hv, s.domid, 6, ov2, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_resize(hv, s.domid, 6, 2 * MiB), 0, "%s", xvm_hv_last_error(hv));

	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	i = hvt_disk_info(hv, s.domid, 6);
	cr_assert_str_eq(i.disk.path, ov2);
	cr_assert_str_eq(i.disk.format, "qcow2");
	cr_assert_eq(i.size_bytes, 2 * MiB);
	cr_assert_eq(hvt_device_size(s.domid, 6, node), 2 * MiB);
	cr_assert_str_eq(node, "drv6.2");

	/* The caller restores with the overlay as the disk, as DISK_GET_INFO says; QEMU opens the chain. */
	snprintf(s.path, sizeof s.path, "%s/saved", dir);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s), 0, "%s", xvm_hv_last_error(hv));
	strcpy(cfg.disks[1].path, ov2);
	strcpy(cfg.disks[1].format, "qcow2");
	strcpy(r.path, s.path);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &r), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, r.domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_device_size(r.domid, 6, node), 2 * MiB);
	cr_assert_str_eq(node, "drv6", "a new QEMU starts from the overlay");
	/* And snapshots again from there. */
	snprintf(ov1, sizeof ov1, "%s/ov3.qcow2", dir);
	overlay_of(ov1, ov2, "qcow2", "2M");
	cr_assert_eq(hvt_disk_snapshot(hv, r.domid, 6, ov1, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, r.domid), 0);
	cr_assert_eq(hvt_sh("qemu-img info --backing-chain '%s' | grep -c '^image:' | grep -qx 4", ov1), 0,
		     "the chain is base <- ov1 <- ov2 <- ov3");
}

/* Refused with err and `why` in the detail; QEMU's nodes and the disk as they were. */
static void snapshot_refused(uint32_t d, uint32_t pos, const char *ov, int err, const char *why)
{
	struct xvm_hc_disk_info before = hvt_disk_info(hv, d, pos), after;
	char nodes_before[1024], nodes_after[1024];
	int r;

	hvt_node_names(d, nodes_before, sizeof nodes_before);
	r = hvt_disk_snapshot(hv, d, pos, ov, "qcow2");
	cr_assert_eq(r, err, "%s: %d %s", ov, r, xvm_hv_last_error(hv));
	cr_assert(strstr(xvm_hv_last_error(hv), why), "%s: '%s' lacks '%s'", ov, xvm_hv_last_error(hv), why);
	after = hvt_disk_info(hv, d, pos);
	cr_assert_eq(memcmp(&before, &after, sizeof before), 0, "%s changed the disk", ov);
	hvt_node_names(d, nodes_after, sizeof nodes_after);
	cr_assert_str_eq(nodes_after, nodes_before, "%s left nodes", ov);
}

Test(qemu_disk, bad_snapshots_change_nothing)
{
	char base[600], other[600], p[700];
	uint32_t d;

	REQUIRE_QEMU();
	snprintf(base, sizeof base, "%s/base.qcow2", dir);
	snprintf(other, sizeof other, "%s/other.qcow2", dir);
	image(base, "qcow2", "1M");
	image(other, "qcow2", "1M");
	d = guest_with_disk(6, base, "qcow2");
	snprintf(p, sizeof p, "%s/missing.qcow2", dir);
	snapshot_refused(d, 6, p, -ENOENT, "missing.qcow2");
	snapshot_refused(d, 6, base, -EINVAL, "already uses");
	snapshot_refused(d, 6, other, -EINVAL, "no backing file");
	snprintf(p, sizeof p, "%s/wrong-backing.qcow2", dir);
	overlay_of(p, other, "qcow2", "1M");
	snapshot_refused(d, 6, p, -EINVAL, "not the disk's image");
	snprintf(p, sizeof p, "%s/wrong-format.qcow2", dir);
	overlay_of(p, base, "raw", "1M");
	snapshot_refused(d, 6, p, -EINVAL, "not qcow2");
	snprintf(p, sizeof p, "%s/bigger.qcow2", dir);
	overlay_of(p, base, "qcow2", "2M");
	snapshot_refused(d, 6, p, -EINVAL, "must not change the size");
	snprintf(p, sizeof p, "%s/raw.img", dir);
	image(p, "raw", "1M");
	snapshot_refused(d, 6, p, -EINVAL, "raw image, not qcow2");
	snapshot_refused(d, 3, base, -EINVAL, "CD drive");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 9, base, "qcow2"), -ENOENT);
	/* The failed attempts took no node name: a good overlay still goes on. */
	snprintf(p, sizeof p, "%s/good.qcow2", dir);
	overlay_of(p, base, "qcow2", "1M");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 6, p, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
}
