/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The default entry of grub.cfg texts as update-grub and people write them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>

#include "boot/grub_cfg.h"

/* The shape of Debian's generated grub.cfg. */
static const char debian_cfg[] =
	"if [ -s $prefix/grubenv ]; then\n"
	"  load_env\n"
	"fi\n"
	"if [ \"${next_entry}\" ] ; then\n"
	"   set default=\"${next_entry}\"\n"
	"   set next_entry=\n"
	"else\n"
	"   set default=\"0\"\n"
	"fi\n"
	"function load_video {\n"
	"  insmod all_video\n"
	"}\n"
	"menuentry 'Debian GNU/Linux' --class debian --class gnu-linux $menuentry_id_option 'gnulinux-simple-1234' {\n"
	"\tload_video\n"
	"\tinsmod ext2\n"
	"\techo\t'Loading Linux 6.1.0-30-amd64 ...'\n"
	"\tlinux\t/boot/vmlinuz-6.1.0-30-amd64 root=UUID=1234 ro  quiet\n"
	"\techo\t'Loading initial ramdisk ...'\n"
	"\tinitrd\t/boot/initrd.img-6.1.0-30-amd64\n"
	"}\n"
	"submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1234' {\n"
	"\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-30-amd64' --id 'adv-30' {\n"
	"\t\tlinux\t/boot/vmlinuz-6.1.0-30-amd64 root=UUID=1234 ro single\n"
	"\t}\n"
	"\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-29-amd64' --id 'adv-29' {\n"
	"\t\tlinux\t/boot/vmlinuz-6.1.0-29-amd64 root=UUID=1234 ro\n"
	"\t\tinitrd\t/boot/initrd.img-6.1.0-29-amd64\n"
	"\t}\n"
	"}\n"
	"menuentry 'Memory test' {\n"
	"\tlinux16\t/boot/memtest86+.bin\n"
	"}\n";

static char *with_default(const char *def)
{
	char *s = NULL;
	cr_assert(asprintf(&s, "%s\nset default=\"%s\"\n", debian_cfg, def) > 0);
	return s;
}

Test(grub_cfg, debian_default_entry)
{
	struct grub_entry e;
	const char *why = NULL;
	cr_assert_eq(grub_cfg_default(debian_cfg, &e, &why), 0);
	cr_assert_str_eq(e.title, "Debian GNU/Linux");
	cr_assert_str_eq(e.linux_path, "/boot/vmlinuz-6.1.0-30-amd64");
	cr_assert_str_eq(e.args, "root=UUID=1234 ro  quiet");
	cr_assert_str_eq(e.initrd, "/boot/initrd.img-6.1.0-30-amd64");
	grub_entry_free(&e);
}

Test(grub_cfg, default_by_path_title_and_id)
{
	static const char *const defs[][2] = {
		{ "1>1", "/boot/vmlinuz-6.1.0-29-amd64" },
		{ "gnulinux-advanced-1234>adv-30", "/boot/vmlinuz-6.1.0-30-amd64" },
		{ "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-29-amd64",
		  "/boot/vmlinuz-6.1.0-29-amd64" },
		{ "2", "/boot/memtest86+.bin" },
		{ "Memory test", "/boot/memtest86+.bin" },
	};
	for (size_t i = 0; i < sizeof(defs) / sizeof(*defs); i++) {
		char *cfg = with_default(defs[i][0]);
		struct grub_entry e;
		const char *why = NULL;
		cr_assert_eq(grub_cfg_default(cfg, &e, &why), 0, "default %s", defs[i][0]);
		cr_assert_str_eq(e.linux_path, defs[i][1], "default %s", defs[i][0]);
		grub_entry_free(&e);
		free(cfg);
	}
}

Test(grub_cfg, entry_without_initrd_or_args)
{
	char *cfg = with_default("1>0");
	struct grub_entry e;
	const char *why = NULL;
	cr_assert_eq(grub_cfg_default(cfg, &e, &why), 0);
	cr_assert_null(e.initrd);
	cr_assert_str_eq(e.args, "root=UUID=1234 ro single");
	grub_entry_free(&e);
	free(cfg);
	cr_assert_eq(grub_cfg_default("menuentry x {\n linux /k\n}\n", &e, &why), 0);
	cr_assert_str_eq(e.args, "");
	grub_entry_free(&e);
}

Test(grub_cfg, bad_defaults_and_entries)
{
	static const char *const bad[] = { "3", "1", "1>5", "nosuch", "0>0" };
	static const int want[] = { -ENOENT, -ENOENT, -ENOENT, -ENOENT, -ENOENT };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *cfg = with_default(bad[i]);
		struct grub_entry e = { 0 };
		const char *why = NULL;
		cr_assert_eq(grub_cfg_default(cfg, &e, &why), want[i], "default %s", bad[i]);
		cr_assert_not_null(why);
		cr_assert_null(e.linux_path);
		free(cfg);
	}
	struct grub_entry e = { 0 };
	const char *why = NULL;
	cr_assert_eq(grub_cfg_default("set timeout=5\n", &e, &why), -ENOENT);
	cr_assert_str_eq(why, "it has no menu entry");
	cr_assert_eq(grub_cfg_default("menuentry 'x' {\n  echo hi\n}\n", &e, &why), -EINVAL);
	cr_assert_str_eq(why, "its default entry has no linux line");
}
