/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/inflight.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "lifecycle/oplock.h"

#define SLOT_BASE (1ull << 41)
#define SLOT_SIZE 256
#define MAX_SLOTS 4096 /* operations in flight at once on one host */

static int lock_slot(int fd, uint64_t offset, short type, int cmd)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = (off_t)offset, .l_len = 1 };
	int r = fcntl(fd, cmd, &fl);
	if (cmd == F_OFD_GETLK)
		return r == 0 && fl.l_type != F_UNLCK;
	return r;
}

int inflight_begin(struct engine *e, const struct oplock *lock, const char *cls, const char *ref,
		   const char *op, struct inflight *ret)
{
	char now[XVM_DATETIME_BUFLEN], line[SLOT_SIZE] = { 0 };
	ref_generate(ret->task_ref);
	datetime_format(time(NULL), now);
	int n = snprintf(line, sizeof(line),
			 "{\"class\":\"%s\",\"object\":\"%s\",\"op\":\"%s\",\"task\":\"%s\",\"created\":\"%s\",\"pid\":%d}",
			 cls, ref, op, ret->task_ref, now, (int)getpid());
	if (n < 0 || n >= SLOT_SIZE)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "operation record too long for %s", ref);
	for (uint64_t i = 0; i < MAX_SLOTS; i++) {
		uint64_t offset = SLOT_BASE + i * SLOT_SIZE;
		if (lock_slot(lock->fd, offset, F_WRLCK, F_OFD_SETLK) < 0)
			continue;
		if (pwrite(lock->fd, line, sizeof(line), (off_t)offset) != (ssize_t)sizeof(line)) {
			int err = errno;
			lock_slot(lock->fd, offset, F_UNLCK, F_OFD_SETLK);
			return ERR0(XVM_ERR_INTERNAL_ERROR, "cannot record the operation on %s: %s", ref, strerror(err));
		}
		ret->fd = lock->fd;
		ret->offset = offset;
		return 0;
	}
	return ERR2(XVM_ERR_OTHER_OPERATION_IN_PROGRESS, cls, ref,
		    "%d operations are in flight on this host already", MAX_SLOTS);
}

void inflight_end(struct inflight *op)
{
	/* The slot is free once unlocked; zeroing it keeps readers from even parsing it. */
	static const char empty = 0;
	if (pwrite(op->fd, &empty, 1, (off_t)op->offset) == 1)
		lock_slot(op->fd, op->offset, F_UNLCK, F_OFD_SETLK);
}

static struct json_object *task_record(struct engine *e, struct json_object *marker)
{
	struct json_object *t = json_object_new_object(), *v;
	const char *uuid = json_object_get_string(json_object_object_get(marker, "task")) + strlen(XVM_REF_PREFIX);
	char name[96];
	snprintf(name, sizeof(name), "%s.%s", json_object_get_string(json_object_object_get(marker, "class")),
		 json_object_get_string(json_object_object_get(marker, "op")));
	json_object_object_add(t, "uuid", json_object_new_string(uuid));
	json_object_object_add(t, "name_label", json_object_new_string(name));
	json_object_object_add(t, "status", json_object_new_string("pending"));
	json_object_object_add(t, "resident_on", json_object_new_string(e->host_ref));
	if (json_object_object_get_ex(marker, "created", &v))
		json_object_object_add(t, "created", json_object_get(v));
	if (json_object_object_get_ex(marker, "pid", &v))
		json_object_object_add(t, "owner_pid", json_object_get(v));
	return t;
}

static void add_live(struct engine *e, struct json_object *m, struct json_object *by_object,
		     struct json_object *tasks)
{
	struct json_object *obj, *task, *op, *ops;
	if (!json_object_object_get_ex(m, "object", &obj) || !json_object_object_get_ex(m, "task", &task) ||
	    !json_object_object_get_ex(m, "op", &op))
		return;
	if (!json_object_object_get_ex(by_object, json_object_get_string(obj), &ops)) {
		ops = json_object_new_object();
		json_object_object_add(by_object, json_object_get_string(obj), ops);
	}
	json_object_object_add(ops, json_object_get_string(task), json_object_get(op));
	if (tasks)
		json_object_object_add(tasks, json_object_get_string(task), task_record(e, m));
}

int inflight_read(struct engine *e, struct json_object **by_object, struct json_object **tasks)
{
	struct stat st;
	if (fstat(e->oplock_fd, &st) < 0)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "cannot read the operations in flight: %s", strerror(errno));
	uint64_t nslots = (uint64_t)st.st_size > SLOT_BASE ? ((uint64_t)st.st_size - SLOT_BASE) / SLOT_SIZE : 0;
	if (nslots > MAX_SLOTS)
		nslots = MAX_SLOTS;
	*by_object = json_object_new_object();
	if (tasks)
		*tasks = json_object_new_object();
	char slot[SLOT_SIZE + 1];
	for (uint64_t i = 0; i < nslots; i++) {
		uint64_t offset = SLOT_BASE + i * SLOT_SIZE;
		if (pread(e->oplock_fd, slot, SLOT_SIZE, (off_t)offset) != SLOT_SIZE || !slot[0] ||
		    !lock_slot(e->oplock_fd, offset, F_WRLCK, F_OFD_GETLK))
			continue;
		slot[SLOT_SIZE] = 0;
		struct json_object *m = json_tokener_parse(slot);
		if (m && json_object_is_type(m, json_type_object))
			add_live(e, m, *by_object, tasks ? *tasks : NULL);
		json_object_put(m);
	}
	return 0;
}
