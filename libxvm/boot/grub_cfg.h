/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The default entry of a grub.cfg, as update-grub writes it: menuentry and
 * submenu blocks, `set default=` as an index, a title or an id, with '>'
 * between submenu levels ("1>2"). A default that names a variable
 * ("${saved_entry}") is skipped for the literal one; none means entry 0.
 * Only literal linux/initrd lines are understood: no grub scripting.
 */
#pragma once

struct grub_entry {
	char *title;
	char *linux_path;
	char *args;     /* the kernel command line; "" if none */
	char *initrd;   /* NULL if none */
};

/* -ENOENT: no such entry (*why says which); -EINVAL: the entry has no
 * linux line; -ENOMEM. *why is static text. */
int grub_cfg_default(const char *text, struct grub_entry *entry, const char **why);
void grub_entry_free(struct grub_entry *entry);
