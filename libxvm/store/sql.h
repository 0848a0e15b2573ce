/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building SQL text on the stack, for the statements whose columns vary by
 * call. Plain appends: they run on every operation, where printf's
 * formatting showed in profiles.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define SQL_MAX 8192

struct sql {
	size_t len;
	bool overflow; /* the text did not fit: do not run it */
	char text[SQL_MAX];
};

static inline void sql_add(struct sql *q, const char *s)
{
	size_t n = strlen(s);
	if (q->len + n >= SQL_MAX) {
		q->overflow = true;
		return;
	}
	memcpy(q->text + q->len, s, n + 1);
	q->len += n;
}

/* A quoted identifier: "name". Names come from the class tables. */
static inline void sql_ident(struct sql *q, const char *name)
{
	sql_add(q, "\"");
	sql_add(q, name);
	sql_add(q, "\"");
}
