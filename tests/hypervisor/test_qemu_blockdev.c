/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The block nodes behind disks and CD drives, with real QEMUs (TCG): a CD's
 * discs, each on nodes of its own, and images on nfs:// URLs, whose JSON
 * QEMU's nfs driver takes and acts on. No NFS server runs: the driver's
 * failure to mount from 127.0.0.1 (loopback only) shows that the blockdev
 * options reached it, and that a failure changes nothing. Skipped only if
 * qemu-system-x86_64 is absent.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define HVT_QEMU_FIXTURE
#include "hvtest.h"
#include "qemutest.h"

TestSuite(qemu_blockdev, .init = hvt_qemu_setup, .fini = hvt_qemu_teardown, .timeout = 120);

/* No server answers there: what libnfs says when QEMU's nfs driver tries to mount. */
#define NFS_DISK "nfs://127.0.0.1/xvm-test-export/vm/disk.qcow2"
#define NFS_MOUNT_FAILED "Failed to mount nfs share"

static int media(uint32_t domid, const char *path)
{
	struct xvm_hc_media m = { .head = XVM_HC_HEAD(0), .domid = domid, .position = 3, .format = "raw" };

	snprintf(m.path, sizeof m.path, "%s", path);
	return xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &m);
}

/* The disc in CD drive 3, by QEMU's and by the backend's account. */
static void assert_disc(uint32_t domid, const char *path, const char *node)
{
	char top[64];

	hvt_device_size(domid, 3, top);
	cr_assert_str_eq(top, node, "drive 3 has %s, not %s", top, node);
	cr_assert_str_eq(hvt_disk_info(hv, domid, 3).disk.path, path);
}

Test(qemu_blockdev, each_disc_on_nodes_of_its_own)
{
	char iso1[600], iso2[600], nodes[1024];
	uint32_t d;

	REQUIRE_QEMU();
	snprintf(iso1, sizeof iso1, "%s/one.iso", dir);
	snprintf(iso2, sizeof iso2, "%s/two, with a comma.iso", dir);
	cr_assert_eq(hvt_sh("head -c 65536 /dev/zero > '%s' && cp '%s' '%s'", iso1, iso1, iso2), 0);
	d = hvt_start_guest(hv, 1, "idle");
	assert_disc(d, "", "");
	cr_assert_eq(media(d, iso1), 0, "%s", xvm_hv_last_error(hv));
	assert_disc(d, iso1, "drv3.1");
	cr_assert_eq(hvt_disk_info(hv, d, 3).size_bytes, 65536);
	cr_assert_eq(media(d, iso2), 0, "%s", xvm_hv_last_error(hv));
	assert_disc(d, iso2, "drv3.2");
	hvt_node_names(d, nodes, sizeof nodes);
	cr_assert_str_eq(nodes, "drv3.2 file3.2 ", "the old disc's nodes are gone");

	cr_assert_eq(media(d, "/nonexistent.iso"), -ENOENT);
	assert_disc(d, iso2, "drv3.2");
	cr_assert_eq(media(d, ""), 0, "eject: %s", xvm_hv_last_error(hv));
	assert_disc(d, "", "");
	hvt_node_names(d, nodes, sizeof nodes);
	cr_assert_str_empty(nodes);
	/* A later process knows which nodes hold the disc. */
	cr_assert_eq(media(d, iso1), 0);
	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(media(d, iso2), 0, "%s", xvm_hv_last_error(hv));
	assert_disc(d, iso2, "drv3.5");
	hvt_node_names(d, nodes, sizeof nodes);
	cr_assert_str_eq(nodes, "drv3.5 file3.5 ");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
}

Test(qemu_blockdev, a_disc_given_at_start_is_changed)
{
	char iso[600], nodes[1024];
	uint32_t d;

	REQUIRE_QEMU();
	snprintf(iso, sizeof iso, "%s/cd.iso", dir);
	cr_assert_eq(hvt_sh("head -c 65536 /dev/zero > '%s'", iso), 0);
	hvt_guest_config(&cfg, 1, "idle");
	strcpy(cfg.disks[0].path, iso);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &d), 0, "%s", xvm_hv_last_error(hv));
	assert_disc(d, iso, "drv3");
	cr_assert_eq(media(d, kernel), 0, "%s", xvm_hv_last_error(hv));
	assert_disc(d, kernel, "drv3.1");
	hvt_node_names(d, nodes, sizeof nodes);
	cr_assert_str_eq(nodes, "drv3.1 file3.1 ");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
}

Test(qemu_blockdev, an_nfs_disk_at_start_reaches_the_nfs_driver)
{
	uint32_t domid;
	pid_t pids[4];

	REQUIRE_QEMU();
	hvt_guest_config(&cfg, 1, "idle");
	cfg.disks[1] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = 0, .format = "qcow2",
						    .path = NFS_DISK };
	cfg.ndisks = 2;
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -EIO);
	cr_assert(strstr(xvm_hv_last_error(hv), NFS_MOUNT_FAILED), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_list_count(hv), 0);
	cr_assert_eq(hvt_our_processes(pids, 4), 0, "a process is left");
}

Test(qemu_blockdev, failing_nfs_images_change_nothing)
{
	struct xvm_hc_disk_config nfs = { .kind = XVM_HC_DISK, .position = 1, .format = "qcow2", .path = NFS_DISK };
	char iso[600], base[600], before[1024], after[1024];
	uint32_t d;

	REQUIRE_QEMU();
	snprintf(iso, sizeof iso, "%s/cd.iso", dir);
	snprintf(base, sizeof base, "%s/base.qcow2", dir);
	cr_assert_eq(hvt_sh("head -c 65536 /dev/zero > '%s' && qemu-img create -q -f qcow2 '%s' 1M", iso, base), 0);
	d = hvt_start_guest(hv, 1, "idle");
	cr_assert_eq(media(d, iso), 0, "%s", xvm_hv_last_error(hv));
	nfs.position = 2;
	strcpy(nfs.path, base);
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, d, &nfs), 0, "%s", xvm_hv_last_error(hv));
	hvt_node_names(d, before, sizeof before);

	nfs.position = 1;
	strcpy(nfs.path, NFS_DISK);
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, d, &nfs), -EIO, "hot-plug");
	cr_assert(strstr(xvm_hv_last_error(hv), NFS_MOUNT_FAILED), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 1 << 20), -ENOENT, "no disk was plugged");
	cr_assert_eq(media(d, "nfs://127.0.0.1/xvm-test-export/iso/debian.iso"), -EIO, "media change");
	cr_assert(strstr(xvm_hv_last_error(hv), NFS_MOUNT_FAILED), "%s", xvm_hv_last_error(hv));
	assert_disc(d, iso, "drv3.1");
	cr_assert_eq(hvt_disk_snapshot(hv, d, 2, "nfs://127.0.0.1/xvm-test-export/vm/ov.qcow2", "qcow2"), -EIO,
		     "overlay");
	cr_assert(strstr(xvm_hv_last_error(hv), NFS_MOUNT_FAILED), "%s", xvm_hv_last_error(hv));
	cr_assert_str_eq(hvt_disk_info(hv, d, 2).disk.path, base);
	hvt_node_names(d, after, sizeof after);
	cr_assert_str_eq(after, before, "a failure left nodes");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
}
