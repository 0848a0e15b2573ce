/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DISK_RESIZE, DISK_SNAPSHOT and DISK_GET_INFO on the sim: it refuses what
 * the qemu backend refuses (test_qemu_disk.c), reading the images qemu-img
 * makes here, and records what happened where another handle, a later
 * process and DEVICE_DETACH see it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HVT_SIM_FIXTURE
#include "hvtest.h"

TestSuite(sim_disk, .init = hvt_sim_setup, .fini = hvt_sim_teardown);

#define MiB (1024u * 1024u)

static char base[600], other[600];

/* qcow2 images base (1 MiB) and other (1 MiB) in the state dir, and domain 1 with base hot-plugged at 1. */
static uint32_t domain_with_disk(void)
{
	struct xvm_hc_disk_config d = { .kind = XVM_HC_DISK, .position = 1, .format = "qcow2" };
	uint32_t domid = hvt_create(hv, 1);

	snprintf(base, sizeof base, "%s/base.qcow2", dir);
	snprintf(other, sizeof other, "%s/other.qcow2", dir);
	cr_assert_eq(hvt_sh("qemu-img create -q -f qcow2 '%s' 1M && qemu-img create -q -f qcow2 '%s' 1M", base,
			    other), 0);
	strcpy(d.path, base);
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, domid, &d), 0, "%s", xvm_hv_last_error(hv));
	return domid;
}

/* An overlay of `backing` at path: `extra` is more of qemu-img create's options, `size` its size. */
static void overlay(const char *path, const char *backing, const char *extra, const char *size)
{
	cr_assert_eq(hvt_sh("qemu-img create -q -f qcow2 -b '%s' %s -u '%s' %s", backing, extra, path, size), 0);
}

/*
 * qemu-img 7.2 writes no overlay without a backing format any more, but
 * older tools did: the extension that names it is made one of a type
 * QEMU ignores (version 2 headers are 72 bytes; extensions follow).
 */
static void overlay_without_backing_format(const char *path, const char *backing)
{
	unsigned char ext[4];
	int fd;

	overlay(path, backing, "-F qcow2 -o compat=0.10", "1M");
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, ext, 4, 72), 4);
	cr_assert_eq(memcmp(ext, "\xe2\x79\x2a\xca", 4), 0, "the backing format extension is not first");
	cr_assert_eq(pwrite(fd, "\x12\x34\x56\x78", 4, 72), 4);
	close(fd);
}

Test(sim_disk, info_of_disks_and_cd_drives)
{
	uint32_t d = domain_with_disk();
	struct xvm_hc_media m = { .head = XVM_HC_HEAD(0), .domid = d, .position = 3, .format = "raw" };
	struct xvm_hc_disk_info i = hvt_disk_info(hv, d, 1);
	struct xvm_hc_disk_info none = { .head = XVM_HC_HEAD(0), .domid = d, .position = 9 };

	cr_assert_str_eq(i.disk.path, base);
	cr_assert_str_eq(i.disk.format, "qcow2");
	cr_assert_eq(i.disk.kind, XVM_HC_DISK);
	cr_assert_eq(i.size_bytes, MiB, "the size of the image qemu-img made");
	cr_assert(i.resize_online, "a hot-plugged disk is virtio");
	/* From the config: disk 0 on the IDE controller, an empty CD drive at 3. */
	i = hvt_disk_info(hv, d, 0);
	cr_assert_str_eq(i.disk.path, "/srv/sr/disk0.qcow2");
	cr_assert_eq(i.size_bytes, 0, "an image the sim cannot read has no size it knows");
	cr_assert_not(i.resize_online);
	i = hvt_disk_info(hv, d, 3);
	cr_assert_eq(i.disk.kind, XVM_HC_CDROM);
	cr_assert_str_empty(i.disk.path);
	cr_assert_not(i.resize_online);
	strcpy(m.path, base);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &m), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_str_eq(hvt_disk_info(hv, d, 3).disk.path, base);
	strcpy(m.path, "ftp://mirror/debian.iso");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &m), -EINVAL);
	cr_assert_str_eq(hvt_disk_info(hv, d, 3).disk.path, base, "a refused disc changes nothing");
	m.path[0] = '\0';
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &m), 0);
	cr_assert_str_empty(hvt_disk_info(hv, d, 3).disk.path);

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DISK_GET_INFO, &none), -ENOENT);
	cr_assert_str_empty(none.disk.path, "outputs untouched on failure");
	none.domid = 99;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DISK_GET_INFO, &none), -ESRCH);
}

Test(sim_disk, resize_grows_virtio_disks_only)
{
	uint32_t d = domain_with_disk();

	cr_assert_eq(hvt_disk_resize(hv, d, 1, 4 * MiB), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_info(hv, d, 1).size_bytes, 4 * MiB);
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 4 * MiB), 0, "the current size is no change");
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 2 * MiB), -EINVAL, "shrinking");
	cr_assert(strstr(xvm_hv_last_error(hv), "shrinking"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 4 * MiB + 100), -EINVAL, "not whole sectors");
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 0), -EINVAL);
	cr_assert_eq(hvt_disk_resize(hv, d, 1, UINT64_MAX - 511), -EINVAL, "beyond what QEMU takes");
	cr_assert_eq(hvt_disk_resize(hv, d, 9, 8 * MiB), -ENOENT);
	cr_assert_eq(hvt_disk_resize(hv, d, 3, 8 * MiB), -EINVAL, "a CD drive");
	cr_assert_eq(hvt_disk_resize(hv, d, 0, 8 * MiB), -EOPNOTSUPP, "IDE");
	cr_assert(strstr(xvm_hv_last_error(hv), "IDE"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_info(hv, d, 1).size_bytes, 4 * MiB, "refusals change nothing");

	/* Another process sees it; the image itself is untouched (the sim writes no image). */
	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	cr_assert_eq(hvt_disk_info(hv, d, 1).size_bytes, 4 * MiB);
	cr_assert_eq(hvt_sh("qemu-img info '%s' | grep -q '^virtual size: 1 MiB'", base), 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	cr_assert_eq(hvt_guest_action(hv, d, XVM_HC_SHUTDOWN_POWEROFF), 0);
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 8 * MiB), -EINVAL, "a domain that shut down");
}

Test(sim_disk, which_positions_are_ide)
{
	struct xvm_hc_disk_config ro = { .kind = XVM_HC_DISK, .position = 7, .read_only = true, .path = "/x.raw" };
	uint32_t d;

	hvt_config(&cfg, 1, 65536);
	cfg.ndisks = 3;
	cfg.disks[1] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = 5, .path = "/a.raw" };
	cfg.disks[2] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = 6, .path = "/b.raw" };
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	cr_assert_not(hvt_disk_info(hv, d, 5).resize_online, "q35 has 6 AHCI ports");
	cr_assert(hvt_disk_info(hv, d, 6).resize_online);
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, d, &ro), 0);
	cr_assert_not(hvt_disk_info(hv, d, 7).resize_online, "read-only");
	cr_assert_eq(hvt_disk_resize(hv, d, 7, MiB), -EINVAL);

	hvt_config(&cfg, 2, 65536);
	strcpy(cfg.machine, "pc");
	cfg.ndisks = 2;
	cfg.disks[1] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = 4, .path = "/c.raw" };
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	cr_assert_not(hvt_disk_info(hv, d, 0).resize_online);
	cr_assert(hvt_disk_info(hv, d, 4).resize_online, "pc has 4 IDE positions");
	/* Its size unknown, a resize is taken as it comes. */
	cr_assert_eq(hvt_disk_resize(hv, d, 4, MiB), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_info(hv, d, 4).size_bytes, MiB);
}

Test(sim_disk, snapshot_switches_to_the_overlay)
{
	uint32_t d = domain_with_disk();
	char ov1[700], ov2[700];
	struct xvm_hc_disk_info i;

	snprintf(ov1, sizeof ov1, "%s/ov1.qcow2", dir);
	snprintf(ov2, sizeof ov2, "%s/ov2.qcow2", dir);
	overlay(ov1, base, "-F qcow2", "1M");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 1, ov1, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	i = hvt_disk_info(hv, d, 1);
	cr_assert_str_eq(i.disk.path, ov1);
	cr_assert_str_eq(i.disk.format, "qcow2");
	cr_assert_eq(i.size_bytes, MiB);
	/* Again, on top of the first overlay, named relative to its directory. */
	overlay(ov2, "ov1.qcow2", "-F qcow2", "1M");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 1, ov2, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_str_eq(hvt_disk_info(hv, d, 1).disk.path, ov2);
	/* A resize after it grows what the guest sees. */
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 2 * MiB), 0);
	cr_assert_eq(hvt_disk_info(hv, d, 1).size_bytes, 2 * MiB);

	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	cr_assert_str_eq(hvt_disk_info(hv, d, 1).disk.path, ov2, "a later process sees the overlay");
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_DETACH, d, &(struct xvm_hc_disk_config){ .position = 1 }), 0);
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 4 * MiB), -ENOENT, "detached");
}

/* Refused, with `why` in the detail, and nothing changed. */
static void snapshot_refused(uint32_t d, uint32_t pos, const char *ov, const char *fmt, int err, const char *why)
{
	struct xvm_hc_disk_info before = hvt_disk_info(hv, d, pos), after;
	int r = hvt_disk_snapshot(hv, d, pos, ov, fmt);

	cr_assert_eq(r, err, "%s: %d %s", ov, r, xvm_hv_last_error(hv));
	cr_assert(strstr(xvm_hv_last_error(hv), why), "%s: '%s' lacks '%s'", ov, xvm_hv_last_error(hv), why);
	after = hvt_disk_info(hv, d, pos);
	cr_assert_eq(memcmp(&before, &after, sizeof before), 0, "%s changed the disk", ov);
}

Test(sim_disk, bad_snapshots_change_nothing)
{
	uint32_t d = domain_with_disk();
	char p[700];

	snprintf(p, sizeof p, "%s/missing.qcow2", dir);
	snapshot_refused(d, 1, p, "qcow2", -ENOENT, "missing.qcow2");
	snapshot_refused(d, 1, base, "qcow2", -EINVAL, "already uses");
	snapshot_refused(d, 1, other, "qcow2", -EINVAL, "no backing file");
	snapshot_refused(d, 1, "", "qcow2", -EINVAL, "empty");
	snapshot_refused(d, 1, "http://filer/e/ov.qcow2", "qcow2", -EINVAL, "'http'");
	snprintf(p, sizeof p, "%s/wrong-backing.qcow2", dir);
	overlay(p, other, "-F qcow2", "1M");
	snapshot_refused(d, 1, p, "qcow2", -EINVAL, "not the disk's image");
	snprintf(p, sizeof p, "%s/no-format.qcow2", dir);
	overlay_without_backing_format(p, base);
	snapshot_refused(d, 1, p, "qcow2", -EINVAL, "records nothing");
	snprintf(p, sizeof p, "%s/wrong-format.qcow2", dir);
	overlay(p, base, "-F raw", "1M");
	snapshot_refused(d, 1, p, "qcow2", -EINVAL, "not qcow2");
	snprintf(p, sizeof p, "%s/bigger.qcow2", dir);
	overlay(p, base, "-F qcow2", "2M");
	snapshot_refused(d, 1, p, "qcow2", -EINVAL, "must not change the size");
	snprintf(p, sizeof p, "%s/raw.img", dir);
	cr_assert_eq(hvt_sh("qemu-img create -q -f raw '%s' 1M", p), 0);
	snapshot_refused(d, 1, p, "qcow2", -EINVAL, "raw image, not qcow2");
	snapshot_refused(d, 1, p, "raw", -EINVAL, "not 'raw'");
	snapshot_refused(d, 3, base, "qcow2", -EINVAL, "CD drive");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 9, base, "qcow2"), -ENOENT);
	cr_assert_eq(hvt_disk_snapshot(hv, 99, 1, base, "qcow2"), -ESRCH);
}

/* An overlay the sim cannot read (on NFS) is taken on the caller's word. */
Test(sim_disk, snapshot_onto_nfs)
{
	uint32_t d = domain_with_disk();

	cr_assert_eq(hvt_disk_snapshot(hv, d, 1, "nfs://filer/export/vm1/ov.qcow2", "qcow2"), 0, "%s",
		     xvm_hv_last_error(hv));
	cr_assert_str_eq(hvt_disk_info(hv, d, 1).disk.path, "nfs://filer/export/vm1/ov.qcow2");
	cr_assert_eq(hvt_disk_info(hv, d, 1).size_bytes, MiB, "the size it had");
}

static void collect(void *userdata, const char *line)
{
	snprintf(userdata, 256, "%s", line);
}

Test(sim_disk, traced_with_their_position)
{
	uint32_t d = domain_with_disk();
	char line[256] = "";

	xvm_hv_set_trace(hv, collect, line);
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 3 * MiB), 0);
	cr_assert_str_eq(line, "disk_resize domid=1 position=1 -> 0");
	cr_assert_eq(hvt_disk_resize(hv, d, 4, 3 * MiB), -ENOENT);
	cr_assert_str_eq(line, "disk_resize domid=1 position=4 -> -ENOENT: domain 1 has no disk at position 4");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, d), 0);
	cr_assert_str_eq(line, "domain_pause domid=1 -> 0", "no position for other ops");
	xvm_hv_set_trace(hv, NULL, NULL);
	cr_assert_str_eq(xvm_hc_op_name(XVM_HC_DISK_SNAPSHOT), "disk_snapshot");
	cr_assert_str_eq(xvm_hc_op_name(XVM_HC_DISK_GET_INFO), "disk_get_info");
}

Test(sim_disk, abi_checks_and_faults_of_the_disk_ops)
{
	struct xvm_hc_disk_resize a = { .head = XVM_HC_HEAD(1u << 4), .domid = domain_with_disk(), .position = 1,
					.size_bytes = 2 * MiB };
	struct xvm_hv *h;

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DISK_RESIZE, &a), -EINVAL, "unknown flags");
	a.head = (struct xvm_hc_head){ .version = XVM_HC_ABI_VERSION + 1 };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DISK_RESIZE, &a), -EPROTO);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DISK_SNAPSHOT, NULL), -EFAULT);
	cr_assert_eq(hvt_disk_info(hv, a.domid, 1).size_bytes, MiB, "nothing reached the backend");
	/* Another process, made to fail a snapshot by name. */
	setenv("XVM_HC_FAULT", "disk_snapshot:1:EIO", 1);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &h), 0, "%s", xvm_hv_last_error(NULL));
	unsetenv("XVM_HC_FAULT");
	cr_assert_eq(hvt_disk_snapshot(h, a.domid, 1, "/x.qcow2", "qcow2"), -EIO);
	cr_assert_eq(xvm_hv_op_count(h, XVM_HC_DISK_SNAPSHOT), 1);
	xvm_hv_close(h);
}

Test(sim_disk, records_follow_the_domain)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(0) };
	struct xvm_hc_domain_restore r = { .head = XVM_HC_HEAD(0), .config = &cfg };
	struct xvm_hc_disk_info gone = { .head = XVM_HC_HEAD(0), .position = 1 };
	struct xvm_hc_disk_config fresh = { .kind = XVM_HC_DISK, .position = 3, .path = "/srv/sr/fresh.raw" };
	char ov[700];
	uint32_t d = domain_with_disk(), e;

	snprintf(ov, sizeof ov, "%s/ov.qcow2", dir);
	overlay(ov, base, "-F qcow2", "1M");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 1, ov, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	/* Saved and restored with the config the caller keeps, which names the overlay. */
	s.domid = d;
	snprintf(s.path, sizeof s.path, "%s/saved", dir);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s), 0, "%s", xvm_hv_last_error(hv));
	gone.domid = d;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DISK_GET_INFO, &gone), -ESRCH);
	hvt_config(&cfg, 1, 65536);
	cfg.ndisks = 3;
	cfg.disks[2] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = 1, .format = "qcow2" };
	strcpy(cfg.disks[2].path, ov);
	strcpy(r.path, s.path);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &r), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_str_eq(hvt_disk_info(hv, r.domid, 1).disk.path, ov);
	cr_assert_not(hvt_disk_info(hv, r.domid, 1).resize_online, "at start, position 1 is on the IDE controller");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, r.domid), 0);

	/* The next domain in that table slot starts without disks, and has only what it plugs. */
	hvt_config(&cfg, 2, 65536);
	cfg.ndisks = 0;
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &e), 0);
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, e, &fresh), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_str_eq(hvt_disk_info(hv, e, 3).disk.path, "/srv/sr/fresh.raw");
	gone.domid = e;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DISK_GET_INFO, &gone), -ENOENT, "a disk of an earlier domain");
}
