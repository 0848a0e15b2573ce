/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One operation at a time per object, across threads and processes.
 *
 * An OFD byte-range lock on run/oplocks, at an offset hashed from the
 * object's reference. The kernel drops it when the process dies, so a crash
 * mid-operation never leaves an object locked: whoever takes the lock next
 * knows that any current_operations entry it finds is stale.
 */
#pragma once

#include <stdbool.h>

struct engine;

struct oplock {
	int fd; /* an open file description of its own: OFD locks of one
		   description do not exclude each other */
	struct engine *engine;
};

/* 0, or OTHER_OPERATION_IN_PROGRESS [class, ref] when someone holds it. */
int oplock_try(struct engine *e, const char *cls, const char *ref, struct oplock *ret);
void oplock_release(struct oplock *l);
/* Whether any process (this one included) holds the object's lock. */
bool oplock_is_held(struct engine *e, const char *ref);
