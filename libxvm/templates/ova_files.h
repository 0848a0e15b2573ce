/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The files of an export or import in flight: a private staging directory, gzip. */
#pragma once

#include <stddef.h>

#include "lifecycle/inflight.h"
#include "storage/qemu_img.h"

/* A new directory `base`.xvm-XXXXXX: *ret (free()). */
int ova_staging_make(const char *base, char **ret);
/* Deletes the directory and the files in it; accepts NULL. */
void ova_staging_remove(char *dir);

/* Compresses src into dst (gzip), or the other way round. */
int ova_gzip(const char *src, const char *dst);
int ova_gunzip(const char *src, const char *dst);

/* The whole of a small file (at most max bytes): *buf (free(), NUL-terminated), *len. */
int ova_read_small(const char *path, size_t max, char **buf, size_t *len);

/* One disk's copy as a slice [base, base + span) of the operation's progress. */
struct ova_progress {
	struct qemu_img_progress q; /* pass &q to the copy */
	const struct inflight *mark;
	double base, span;
};
void ova_progress_init(struct ova_progress *p, const struct inflight *mark, double base, double span);
