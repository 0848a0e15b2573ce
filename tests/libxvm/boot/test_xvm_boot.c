/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm-boot on real ext4 images made by `mke2fs -d` (nothing mounted): whole
 * disk and MBR partition 1, raw and qcow2 with a backing file; what it copies
 * and the command line it sets; its errors.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/xvm_boot.h"
#include "core/engine.h"
#include "core/error_internal.h"
#include "core/util.h"

static char *dir;

static void sh(const char *fmt, const char *arg)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg, arg, arg);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void put(const char *rel, const char *text)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	char *slash = strrchr(p, '/');
	*slash = 0;
	cr_assert_eq(mkdir_p(p), 0);
	*slash = '/';
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *s = calloc(1, 1 << 16);
	fread(s, 1, (1 << 16) - 1, f);
	fclose(f);
	return s;
}

static void setup(void)
{
	char t[] = "/tmp/xvm-boot-test.XXXXXX";
	cr_assert_not_null(mkdtemp(t));
	dir = strdup(t);
	put("root/boot/vmlinuz-6.1.0-9-amd64", "KERNEL-6.1.0-9\n");
	put("root/boot/initrd.img-6.1.0-9-amd64", "INITRD-6.1.0-9\n");
	put("root/boot/grub/grub.cfg", "set default=\"0\"\n"
				       "menuentry 'Debian GNU/Linux' {\n"
				       "\tlinux\t/vmlinuz root=LABEL=r ro console=ttyS0\n"
				       "\tinitrd\t/boot/initrd.img-6.1.0-9-amd64\n"
				       "}\n");
	/* The kernel through a symlink, as Debian's /vmlinuz. */
	sh("ln -s boot/vmlinuz-6.1.0-9-amd64 %s/root/vmlinuz", dir);
	sh("mke2fs -q -F -t ext4 -d %s/root %s/disk.raw 16M", dir);
}

static void teardown(void)
{
	sh("rm -rf %s", dir);
	free(dir);
}

TestSuite(xvm_boot, .init = setup, .fini = teardown);

struct boot_run {
	struct engine e;
	struct json_object *rec;
	struct xvm_hc_domain_config cfg;
};

static int boot(struct boot_run *b, const char *disk, const char *format, const char *pv_args)
{
	memset(b, 0, sizeof(*b));
	char run[1024];
	snprintf(run, sizeof(run), "%s/run", dir);
	b->e.run_dir = strdup(run);
	b->rec = json_object_new_object();
	json_object_object_add(b->rec, "uuid", json_object_new_string("0f0e0d0c-0000-4000-8000-000000000001"));
	json_object_object_add(b->rec, "name_label", json_object_new_string("Web Server #1"));
	json_object_object_add(b->rec, "PV_args", json_object_new_string(pv_args));
	b->cfg.ndisks = 2;
	b->cfg.disks[0].kind = XVM_HC_CDROM;
	b->cfg.disks[0].bootable = true;
	snprintf(b->cfg.disks[0].path, sizeof(b->cfg.disks[0].path), "%s/disk.raw", dir);
	b->cfg.disks[1].kind = XVM_HC_DISK;
	b->cfg.disks[1].bootable = disk != NULL;
	snprintf(b->cfg.disks[1].path, sizeof(b->cfg.disks[1].path), "%s/%s", dir, disk ? disk : "disk.raw");
	snprintf(b->cfg.disks[1].format, sizeof(b->cfg.disks[1].format), "%s", format);
	error_clear();
	return xvm_boot_prepare(&b->e, "OpaqueRef:vm", b->rec, &b->cfg);
}

static void boot_done(struct boot_run *b)
{
	free(b->e.run_dir);
	json_object_put(b->rec);
}

static void assert_booted(const char *disk, const char *format)
{
	struct boot_run b;
	cr_assert_eq(boot(&b, disk, format, "quiet"), 0, "%s: %s", disk,
		     xvm_last_error() ? xvm_last_error()->message : "");
	cr_assert_eq(b.cfg.boot, XVM_HC_BOOT_DIRECT_KERNEL);
	cr_assert_str_eq(b.cfg.cmdline, "root=LABEL=r ro console=ttyS0 quiet xvm.hostname=web-server-1");
	char *k = slurp(b.cfg.kernel), *i = slurp(b.cfg.ramdisk);
	cr_assert_str_eq(k, "KERNEL-6.1.0-9\n");
	cr_assert_str_eq(i, "INITRD-6.1.0-9\n");
	cr_assert_not_null(strstr(b.cfg.kernel, "/run/boot/0f0e0d0c-0000-4000-8000-000000000001/kernel"));
	free(k), free(i);
	boot_done(&b);
}

Test(xvm_boot, raw_whole_disk)
{
	assert_booted("disk.raw", "raw");
}

Test(xvm_boot, raw_mbr_partition_1)
{
	/* Partition 1 at sector 2048 (1 MiB), type 0x83, as fdisk makes it. */
	unsigned char mbr[512] = { 0 };
	unsigned char *p1 = mbr + 446;
	p1[4] = 0x83;
	p1[9] = 2048 >> 8;
	p1[12] = (32768 >> 8) & 0xff;
	mbr[510] = 0x55, mbr[511] = 0xaa;
	char path[1024];
	snprintf(path, sizeof(path), "%s/part.raw", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	cr_assert(fd >= 0 && write(fd, mbr, sizeof(mbr)) == sizeof(mbr) && close(fd) == 0);
	sh("truncate -s 20M %s/part.raw && dd if=%s/disk.raw of=%s/part.raw bs=1M seek=1 conv=notrunc status=none", dir);
	assert_booted("part.raw", "raw");
}

Test(xvm_boot, qcow2_clone_bigger_than_its_base)
{
	sh("qemu-img convert -q -O qcow2 %s/disk.raw %s/base.qcow2 && "
	   "qemu-img create -q -f qcow2 -F qcow2 -b %s/base.qcow2 %s/clone.qcow2 10G", dir);
	assert_booted("clone.qcow2", "qcow2");
}

Test(xvm_boot, args_without_pv_args)
{
	struct boot_run b;
	cr_assert_eq(boot(&b, "disk.raw", "raw", ""), 0);
	cr_assert_str_eq(b.cfg.cmdline, "root=LABEL=r ro console=ttyS0 xvm.hostname=web-server-1");
	boot_done(&b);
}

Test(xvm_boot, forget_removes_the_copies)
{
	struct boot_run b;
	cr_assert_eq(boot(&b, "disk.raw", "raw", ""), 0);
	char copies[sizeof(b.cfg.kernel)];
	snprintf(copies, sizeof(copies), "%s", b.cfg.kernel);
	*strrchr(copies, '/') = 0;
	struct stat st;
	cr_assert_eq(stat(b.cfg.kernel, &st), 0);
	xvm_boot_forget(&b.e, "0f0e0d0c-0000-4000-8000-000000000001");
	cr_assert_eq(stat(b.cfg.kernel, &st), -1);
	cr_assert_eq(stat(copies, &st), -1, "%s is still there", copies);
	boot_done(&b);
}

static void assert_fails(const char *disk, const char *format, const char *reason_part)
{
	struct boot_run b;
	cr_assert_eq(boot(&b, disk, format, ""), -XVM_ERR_BOOTLOADER_FAILED, "%s", disk ? disk : "(none)");
	const struct xvm_error *err = xvm_last_error();
	cr_assert_str_eq(err->name, "BOOTLOADER_FAILED");
	cr_assert_eq(err->nparams, 2);
	cr_assert_str_eq(err->params[0], "OpaqueRef:vm");
	cr_assert_not_null(strstr(err->params[1], reason_part), "%s", err->params[1]);
	cr_assert_not_null(strstr(err->message, "Web Server #1"), "%s", err->message);
	boot_done(&b);
}

Test(xvm_boot, no_bootable_disk)
{
	assert_fails(NULL, "raw", "no bootable disk");
}

Test(xvm_boot, not_ext)
{
	sh("truncate -s 8M %s/zero.raw", dir);
	assert_fails("zero.raw", "raw", "no ext2/3/4 filesystem");
	sh("mkfs.vfat -C %s/fat.raw 8192 >/dev/null 2>&1 || truncate -s 8M %s/fat.raw", dir);
	assert_fails("fat.raw", "raw", "no ext2/3/4 filesystem");
}

Test(xvm_boot, no_grub_cfg)
{
	sh("rm %s/root/boot/grub/grub.cfg && mke2fs -q -F -t ext4 -d %s/root %s/disk.raw 16M", dir);
	assert_fails("disk.raw", "raw", "no /boot/grub/grub.cfg");
}

/* A disk whose grub.cfg is cfg. */
static void assert_cfg_fails(const char *cfg, const char *reason_part)
{
	put("root/boot/grub/grub.cfg", cfg);
	sh("mke2fs -q -F -t ext4 -d %s/root %s/disk.raw 16M", dir);
	assert_fails("disk.raw", "raw", reason_part);
}

Test(xvm_boot, no_default_entry)
{
	assert_cfg_fails("set default=\"3\"\nmenuentry 'a' {\n linux /vmlinuz\n}\n", "default entry names no menu entry");
}

Test(xvm_boot, kernel_missing)
{
	assert_cfg_fails("menuentry 'a' {\n linux /boot/vmlinuz-7\n}\n", "kernel /boot/vmlinuz-7");
}

Test(xvm_boot, initrd_missing)
{
	assert_cfg_fails("menuentry 'a' {\n linux /vmlinuz\n initrd /boot/none.img\n}\n", "initrd /boot/none.img");
}

Test(xvm_boot, hostname_from_label)
{
	static const char *const cases[][2] = {
		{ "debian", "debian" }, { "Web Server #1", "web-server-1" }, { "--a--b--", "a-b" },
		{ "été", "t" }, { "!!!", "" },
		{ "0123456789012345678901234567890123456789012345678901234567890123456789",
		  "012345678901234567890123456789012345678901234567890123456789012" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char out[64];
		xvm_boot_hostname(cases[i][0], out, sizeof(out));
		cr_assert_str_eq(out, cases[i][1], "%s", cases[i][0]);
	}
}
