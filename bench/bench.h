/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the C benchmarks share. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <xvm/xvm.h>

/* A benchmark whose call failed measures nothing: say why and stop. */
static inline void check(int r, const char *what)
{
	if (r >= 0)
		return;
	const struct xvm_error *e = xvm_last_error();
	fprintf(stderr, "%s: %s: %s\n", what, e ? e->name : "?", e ? e->message : "?");
	exit(1);
}
