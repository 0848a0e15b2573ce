/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <xvm/error.h>

/* Each setter records the error for this thread and returns -code. */
int error_set(int code, const char *const *params, size_t nparams, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int error_setv(int code, const char *const *params, size_t nparams, const char *fmt, va_list ap);
/* For an error received over the wire, whose name this build may not know. */
int error_set_wire(const char *name, size_t nparams, const char *const *params, const char *message);
int error_oom(void);
void error_clear(void);
/* Sets the current error aside while clean-up code may set others; unstash
 * puts it back (dropping whatever came since) and returns -code. */
void *error_stash(void);
int error_unstash(void *stash);

/* error_set with a literal parameter list: ERR(XVM_ERR_X, "msg %s", a, PARAMS(p1, p2)) is
 * clumsy in C; these cover the shapes used. */
#define ERR0(code, ...) error_set((code), NULL, 0, __VA_ARGS__)
#define ERR1(code, p1, ...) error_set((code), (const char *const[]){ (p1) }, 1, __VA_ARGS__)
#define ERR2(code, p1, p2, ...) error_set((code), (const char *const[]){ (p1), (p2) }, 2, __VA_ARGS__)
#define ERR3(code, p1, p2, p3, ...) \
	error_set((code), (const char *const[]){ (p1), (p2), (p3) }, 3, __VA_ARGS__)
