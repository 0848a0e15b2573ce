/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "boot/xvm_boot.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot_fs.h"
#include "boot/boot_image.h"
#include "boot/grub_cfg.h"
#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/util.h"

#define GRUB_CFG_MAX (1024 * 1024)

/* Where update-grub writes it: on the root filesystem, or on a /boot of its own. */
static const char *const grub_cfgs[] = { "/boot/grub/grub.cfg", "/grub/grub.cfg", "/boot/grub2/grub.cfg",
					 "/grub2/grub.cfg" };

static int failed(const char *ref, const char *name, const char *reason)
{
	return ERR2(XVM_ERR_BOOTLOADER_FAILED, ref, reason, "xvm-boot cannot boot VM %s: %s", name, reason);
}

static int failedf(const char *ref, const char *name, const char *fmt, const char *arg, int err)
{
	char reason[512];
	char tail[128] = "";
	if (err)
		snprintf(tail, sizeof(tail), ": %s", strerror(err));
	snprintf(reason, sizeof(reason), fmt, arg);
	size_t n = strlen(reason);
	snprintf(reason + n, sizeof(reason) - n, "%s", tail);
	return failed(ref, name, reason);
}

static const struct xvm_hc_disk_config *boot_disk(const struct xvm_hc_domain_config *cfg)
{
	for (uint32_t i = 0; i < cfg->ndisks; i++)
		if (cfg->disks[i].kind == XVM_HC_DISK && cfg->disks[i].bootable && *cfg->disks[i].path)
			return &cfg->disks[i];
	return NULL;
}

void xvm_boot_hostname(const char *label, char *out, size_t size)
{
	size_t n = 0, max = size - 1 < 63 ? size - 1 : 63;
	for (const char *p = label; *p && n < max; p++) {
		char c = (char)tolower((unsigned char)*p);
		c = isalnum((unsigned char)c) && !(*p & 0x80) ? c : '-';
		if (c != '-' || (n && out[n - 1] != '-'))
			out[n++] = c;
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = 0;
}

static void boot_dir(struct engine *e, const char *uuid, char *dir, size_t size)
{
	snprintf(dir, size, "%s/boot/%s", e->run_dir, uuid);
}

void xvm_boot_forget(struct engine *e, const char *uuid)
{
	char dir[XVM_HC_PATH_MAX - 16], path[XVM_HC_PATH_MAX];
	boot_dir(e, uuid, dir, sizeof(dir));
	static const char *const files[] = { "kernel", "initrd", "kernel.new", "initrd.new" };
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static int find_grub_cfg(struct boot_fs *fs, char **text, const char **found)
{
	size_t len;
	for (size_t i = 0; i < sizeof(grub_cfgs) / sizeof(*grub_cfgs); i++) {
		int r = boot_fs_read(fs, grub_cfgs[i], GRUB_CFG_MAX, text, &len);
		if (r != -ENOENT) {
			*found = grub_cfgs[i];
			return r;
		}
	}
	return -ENOENT;
}

static int copy_file(struct boot_fs *fs, const char *ref, const char *name, const char *what, const char *path,
		     const char *dest)
{
	char tmp[XVM_HC_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.new", dest);
	int r = boot_fs_copy(fs, path, tmp);
	if (r == -ENOENT || r == -EISDIR || r == -EINVAL) {
		char fmt[64];
		snprintf(fmt, sizeof(fmt), "the %s %%s that grub.cfg names is no file on its boot disk", what);
		return failedf(ref, name, fmt, path, 0);
	}
	if (r < 0)
		return failedf(ref, name, "cannot copy %s from its boot disk", path, -r);
	if (rename(tmp, dest) < 0) {
		r = errno;
		remove(tmp);
		return failedf(ref, name, "cannot write %s", dest, r);
	}
	return 0;
}

static int set_cmdline(const char *ref, const char *name, struct json_object *rec, const char *args,
		       struct xvm_hc_domain_config *cfg)
{
	char host[64];
	xvm_boot_hostname(name, host, sizeof(host));
	const char *extra = rec_str(rec, "PV_args");
	int n = snprintf(cfg->cmdline, sizeof(cfg->cmdline), "%s%s%s%s%s", args, *args && *extra ? " " : "", extra,
			 *host ? " xvm.hostname=" : "", host);
	if (n < 0 || (size_t)n >= sizeof(cfg->cmdline))
		return failedf(ref, name, "the kernel command line is longer than %s bytes", "1023", 0);
	return 0;
}

/* Copies the default entry's files and sets cfg from it. */
static int boot_entry(struct engine *e, const char *ref, const char *name, struct json_object *rec,
		      struct boot_fs *fs, struct xvm_hc_domain_config *cfg)
{
	char *text = NULL;
	const char *where = grub_cfgs[0], *why = NULL;
	int r = find_grub_cfg(fs, &text, &where);
	if (r == -ENOENT)
		return failed(ref, name, "its boot disk has no /boot/grub/grub.cfg");
	if (r < 0)
		return failedf(ref, name, "cannot read %s from its boot disk", where, -r);
	struct grub_entry ent;
	r = grub_cfg_default(text, &ent, &why);
	free(text);
	if (r == -ENOMEM)
		return error_oom();
	if (r < 0) {
		char reason[256];
		snprintf(reason, sizeof(reason), "%s on its boot disk: %s", where, why);
		return failed(ref, name, reason);
	}
	char dir[XVM_HC_PATH_MAX - 16]; /* room for /kernel */
	boot_dir(e, rec_str(rec, "uuid"), dir, sizeof(dir));
	if ((r = mkdir_p(dir)) < 0)
		r = failedf(ref, name, "cannot make %s", dir, -r);
	snprintf(cfg->kernel, sizeof(cfg->kernel), "%s/kernel", dir);
	snprintf(cfg->ramdisk, sizeof(cfg->ramdisk), "%s/initrd", dir);
	if (r == 0)
		r = copy_file(fs, ref, name, "kernel", ent.linux_path, cfg->kernel);
	if (r == 0 && ent.initrd)
		r = copy_file(fs, ref, name, "initrd", ent.initrd, cfg->ramdisk);
	else if (r == 0)
		*cfg->ramdisk = 0;
	if (r == 0)
		r = set_cmdline(ref, name, rec, ent.args, cfg);
	grub_entry_free(&ent);
	return r;
}

int xvm_boot_prepare(struct engine *e, const char *ref, struct json_object *rec, struct xvm_hc_domain_config *cfg)
{
	const char *name = rec_str(rec, "name_label");
	const struct xvm_hc_disk_config *disk = boot_disk(cfg);
	if (!disk)
		return failed(ref, name, "it has no bootable disk (a disk VBD with bootable=true holding a VDI)");
	if (disk->path[0] != '/')
		return failedf(ref, name, "its boot disk %s is not a local file", disk->path, 0);
	struct boot_image img;
	int r = boot_image_open(disk->path, disk->format, &img);
	if (r < 0)
		return r;
	struct boot_fs *fs = NULL;
	if ((r = boot_fs_open(&img, &fs)) == -ENODEV)
		r = failed(ref, name, "its boot disk holds no ext2/3/4 filesystem (on the whole disk or in MBR partition 1)");
	else if (r < 0)
		r = failedf(ref, name, "cannot read its boot disk %s", disk->path, -r);
	else
		r = boot_entry(e, ref, name, rec, fs, cfg);
	boot_fs_close(fs);
	boot_image_close(&img);
	if (r == 0)
		cfg->boot = XVM_HC_BOOT_DIRECT_KERNEL;
	return r;
}
