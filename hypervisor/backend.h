/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a hypervisor backend provides to hypercall.c: one table of
 * operations per backend, in the manner of libvirt's driver tables.
 *
 * hypercall.c has already checked the op number, the argument pointer, the
 * ABI version and the flags, counted the call and applied fault injection
 * when an op function runs. A NULL entry means the backend does not
 * implement the op (the caller gets -EOPNOTSUPP).
 *
 * A backend is called from several threads at once on one handle and does
 * its own locking. It returns 0 or a negative errno, leaves the caller's
 * outputs untouched on failure, and explains each failure with
 * xvm_hv_set_error().
 */
#pragma once

#include "hypercall.h"

struct xvm_hv_backend {
	const char *name;
	int (*open)(const char *state_dir, void **ret);
	void (*close)(void *priv);
	int (*op[XVM_HC_OP_MAX])(void *priv, void *arg);
	const char *why_not[XVM_HC_OP_MAX]; /* optional: why an op is NULL */
};

extern const struct xvm_hv_backend xvm_hv_backend_sim;
extern const struct xvm_hv_backend xvm_hv_backend_qemu;

/* Sets this thread's xvm_hv_last_error() text. */
void xvm_hv_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
