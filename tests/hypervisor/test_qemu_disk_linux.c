/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a real guest sees of the disk ops: Debian's kernel with an initramfs
 * that loads virtio-pci and virtio-blk (tests/hypervisor/meson.build), booted
 * through the qemu backend (TCG). Its virtio_blk driver logs each disk it
 * finds and each size change on the serial console; its ACPI hot-plug driver
 * lets a disk go when asked. Run by meson, which builds the kernel and
 * initramfs; skipped otherwise, and if qemu-system-x86_64 is absent.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HVT_QEMU_FIXTURE
#include "hvtest.h"
#include "qemutest.h"

TestSuite(qemu_disk_linux, .init = hvt_qemu_setup, .fini = hvt_qemu_teardown, .timeout = 300);

#define BOOT_BUDGET 120.0  /* s to READY under TCG (~10 s measured) */
#define GUEST_BUDGET 30.0  /* s for the guest to log what it saw */

/* loglevel=6: the console shows notices, which virtio_blk's size messages are, and no chatter. */
static uint32_t boot_linux(char log[XVM_HC_PATH_MAX])
{
	const char *vmlinuz = getenv("XVM_TEST_DISK_KERNEL"), *initrd = getenv("XVM_TEST_DISK_INITRD");
	struct xvm_hc_console c = { .head = XVM_HC_HEAD(0), .kind = XVM_HC_CONSOLE_SERIAL };
	uint32_t domid;

	if (!vmlinuz || !initrd)
		cr_skip_test("run by meson, which builds the kernel and initramfs");
	hvt_guest_config(&cfg, 1, "");
	cfg.memory_static_max_kib = cfg.memory_target_kib = 256 * 1024;
	snprintf(cfg.kernel, sizeof cfg.kernel, "%s", vmlinuz);
	snprintf(cfg.ramdisk, sizeof cfg.ramdisk, "%s", initrd);
	snprintf(cfg.cmdline, sizeof cfg.cmdline, "console=ttyS0 loglevel=6 panic=-1 rdinit=/init");
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	c.domid = domid;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_CONSOLE_OPEN, &c), 0, "%s", xvm_hv_last_error(hv));
	memcpy(log, c.log_path, XVM_HC_PATH_MAX);
	cr_assert(hvt_file_has(log, "XVM-LINUX READY", BOOT_BUDGET), "Linux did not boot; see %s", log);
	return domid;
}

static void guest_logs(const char *log, const char *line)
{
	cr_assert(hvt_file_has(log, line, GUEST_BUDGET), "the guest never logged \"%s\"", line);
}

Test(qemu_disk_linux, the_guest_sees_plug_resize_snapshot_and_unplug)
{
	struct xvm_hc_disk_config disk = { .kind = XVM_HC_DISK, .position = 1, .format = "qcow2" };
	char log[XVM_HC_PATH_MAX], ov[600], nodes[1024];
	uint32_t d;
	double t0;

	REQUIRE_QEMU();
	snprintf(disk.path, sizeof disk.path, "%s/disk.qcow2", dir);
	snprintf(ov, sizeof ov, "%s/overlay.qcow2", dir);
	cr_assert_eq(hvt_sh("qemu-img create -q -f qcow2 '%s' 1M", disk.path), 0);
	d = boot_linux(log);

	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_ATTACH, d, &disk), 0, "%s", xvm_hv_last_error(hv));
	guest_logs(log, "[vda] 2048 512-byte logical blocks");
	t0 = hvt_now_s();
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 3u << 20), 0, "%s", xvm_hv_last_error(hv));
	guest_logs(log, "[vda] new size: 6144 512-byte logical blocks");
	cr_log_info("resize: the guest saw the new size after %.0f ms", (hvt_now_s() - t0) * 1000);

	cr_assert_eq(hvt_sh("qemu-img create -q -f qcow2 -b '%s' -F qcow2 -u '%s' 3M", disk.path, ov), 0);
	cr_assert_eq(hvt_disk_snapshot(hv, d, 1, ov, "qcow2"), 0, "%s", xvm_hv_last_error(hv));
	/* A later process grows the overlay; the guest sees that too. */
	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(hvt_disk_resize(hv, d, 1, 4u << 20), 0, "%s", xvm_hv_last_error(hv));
	guest_logs(log, "[vda] new size: 8192 512-byte logical blocks");

	t0 = hvt_now_s();
	cr_assert_eq(hvt_disk_device(hv, XVM_HC_DEVICE_DETACH, d, &disk), 0, "%s", xvm_hv_last_error(hv));
	cr_log_info("unplug: the guest let the disk go after %.0f ms", (hvt_now_s() - t0) * 1000);
	hvt_node_names(d, nodes, sizeof nodes);
	cr_assert_str_empty(nodes, "left: %s", nodes);
	cr_assert_eq(hvt_sh("qemu-img info '%s' >/dev/null && qemu-img info '%s' >/dev/null", disk.path, ov), 0,
		     "QEMU still holds an image");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
}
