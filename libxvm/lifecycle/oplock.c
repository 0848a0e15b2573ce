/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/oplock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"

/* 2^40 slots: two of 100,000 objects share one with odds of about 1 in 200,000,
 * and a shared slot only makes one wait, it never breaks exclusion. Offsets
 * from 2^41 on hold the operations in flight (inflight.c). */
static off_t slot_of(const char *ref)
{
	uint64_t h = 14695981039346656037ull;
	for (const char *p = ref; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (off_t)(h & ((1ull << 40) - 1));
}

/* A description that holds no lock: one kept from an earlier operation, or a
 * new one (reopening through /proc gives a new description of the file). */
static int take_description(struct engine *e)
{
	pthread_mutex_lock(&e->oplock_spare_lock);
	int fd = e->oplock_nspare ? e->oplock_spare[--e->oplock_nspare] : -1;
	pthread_mutex_unlock(&e->oplock_spare_lock);
	if (fd >= 0)
		return fd;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", e->oplock_fd);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Drops every lock the description holds and keeps it for the next operation. */
static void give_back(struct engine *e, int fd)
{
	struct flock all = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	bool kept = false;
	if (fcntl(fd, F_OFD_SETLK, &all) == 0) {
		pthread_mutex_lock(&e->oplock_spare_lock);
		if (e->oplock_nspare < OPLOCK_SPARES) {
			e->oplock_spare[e->oplock_nspare++] = fd;
			kept = true;
		}
		pthread_mutex_unlock(&e->oplock_spare_lock);
	}
	if (!kept)
		close(fd); /* closing the last fd of the description drops its locks */
}

int oplock_try(struct engine *e, const char *cls, const char *ref, struct oplock *ret)
{
	int fd = take_description(e);
	if (fd < 0)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "cannot open the operation lock file: %s", strerror(errno));
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = slot_of(ref), .l_len = 1 };
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int err = errno;
		give_back(e, fd);
		if (err == EAGAIN || err == EACCES)
			return ERR2(XVM_ERR_OTHER_OPERATION_IN_PROGRESS, cls, ref,
				    "another operation on %s %s is in progress", cls, ref);
		return ERR0(XVM_ERR_INTERNAL_ERROR, "cannot lock %s: %s", ref, strerror(err));
	}
	ret->fd = fd;
	ret->engine = e;
	return 0;
}

void oplock_release(struct oplock *l)
{
	if (l->fd >= 0)
		give_back(l->engine, l->fd);
	l->fd = -1;
}

bool oplock_is_held(struct engine *e, const char *ref)
{
	/* Asked through the engine's own description, which never holds locks,
	 * so this process's locks count too. */
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = slot_of(ref), .l_len = 1 };
	return fcntl(e->oplock_fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}
