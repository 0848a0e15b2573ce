/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-img does the format work: creating, resizing, converting images.
 * The format is always named (-f/-F/-O), never probed: a guest that writes
 * a qcow2 header into a raw disk must not make it read host files.
 * $XVM_QEMU_IMG names another binary (tests).
 */
#pragma once

#include <stdint.h>

struct json_object;

/* Time-outs, seconds: metadata work is quick; copies take as long as the data. */
#define QEMU_IMG_QUICK 60
#define QEMU_IMG_COPY (24 * 3600)

/* Runs qemu-img with the NULL-terminated arguments; on a failure sets
 * SR_BACKEND_FAILURE [what, qemu-img's message]. *out: stdout (free()), may be NULL. */
int qemu_img_run(const char *what, unsigned timeout_s, char **out, ...) __attribute__((sentinel));
int qemu_img_runv(const char *what, unsigned timeout_s, char **out, const char *const *args);
/* How far a copy is: fn(fraction 0..1, data), from what `qemu-img convert -p` prints. */
struct qemu_img_progress {
	void (*fn)(double fraction, void *data);
	void *data;
};
/* qemu_img_runv of a `convert` whose args hold -p, reporting to p. */
int qemu_img_run_progress(const char *what, unsigned timeout_s, const char *const *args,
			  const struct qemu_img_progress *p);
/* Two independent runs at once: one operation's latency is the slower's, not the sum. */
int qemu_img_run_both(const char *what, unsigned timeout_s, const char *const *args1, const char *const *args2);

/* `qemu-img info` of path in `format`: virtual size and the bytes it takes. */
int qemu_img_info(const char *path, const char *format, uint64_t *virtual_size, uint64_t *actual_size);

/* User-facing format names ("vhd") to qemu-img's ("vpc"); NULL if unknown. */
const char *qemu_img_format(const char *name);
