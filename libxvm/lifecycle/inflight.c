/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/inflight.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/async.h"
#include "core/error_internal.h"
#include "lifecycle/oplock.h"

#define SLOT_BASE (1ull << 41)
#define SLOT_SIZE 256
#define MAX_SLOTS 4096 /* operations in flight at once on one host */
#define PROGRESS_AT 240 /* the description ends before; "0.1234" from here */
#define PROGRESS_LEN (SLOT_SIZE - PROGRESS_AT)

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
	if (n < 0 || n >= PROGRESS_AT)
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

static void write_progress(const struct inflight *op, const char *s)
{
	/* A reader sees the old figure or the new one: a failed write only delays it. */
	ssize_t w = pwrite(op->fd, s, PROGRESS_LEN, (off_t)(op->offset + PROGRESS_AT));
	(void)w;
}

void inflight_set_progress(const struct inflight *op, double progress)
{
	char s[PROGRESS_LEN] = { 0 };
	snprintf(s, sizeof(s), "%.4f", progress < 0 ? 0 : progress > 1 ? 1 : progress);
	write_progress(op, s);
	/* An Async call's stored task shows the progress of what it runs. */
	async_report_progress(progress);
}

void inflight_end(struct inflight *op)
{
	/* The slot is free once unlocked; zeroing it keeps readers from even parsing it. */
	static const char empty = 0;
	if (pwrite(op->fd, &empty, 1, (off_t)op->offset) == 1)
		lock_slot(op->fd, op->offset, F_UNLCK, F_OFD_SETLK);
}

/* Calls fn on each slot that holds a record, with its offset and whether a
 * live operation holds it; stops when fn returns nonzero. */
static int for_each_slot(struct engine *e, int (*fn)(struct engine *e, uint64_t offset, bool live,
						     struct json_object *m, void *data),
			 void *data)
{
	struct stat st;
	if (fstat(e->oplock_fd, &st) < 0)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "cannot read the operations in flight: %s", strerror(errno));
	uint64_t nslots = (uint64_t)st.st_size > SLOT_BASE ? ((uint64_t)st.st_size - SLOT_BASE) / SLOT_SIZE : 0;
	if (nslots > MAX_SLOTS)
		nslots = MAX_SLOTS;
	char slot[SLOT_SIZE + 1];
	for (uint64_t i = 0; i < nslots; i++) {
		uint64_t offset = SLOT_BASE + i * SLOT_SIZE;
		if (pread(e->oplock_fd, slot, SLOT_SIZE, (off_t)offset) != SLOT_SIZE || !slot[0])
			continue;
		slot[SLOT_SIZE] = 0;
		struct json_object *m = json_tokener_parse(slot);
		char *end;
		double progress = strtod(slot + PROGRESS_AT, &end);
		if (m && end != slot + PROGRESS_AT && json_object_is_type(m, json_type_object))
			json_object_object_add(m, "progress", json_object_new_double(progress));
		int stop = 0;
		if (m && json_object_is_type(m, json_type_object))
			stop = fn(e, offset, lock_slot(e->oplock_fd, offset, F_WRLCK, F_OFD_GETLK), m, data);
		json_object_put(m);
		if (stop)
			return stop;
	}
	return 0;
}

struct stale_search {
	const char *ref;
	char *op;
	size_t size;
};

static int take_if_stale(struct engine *e, uint64_t offset, bool live, struct json_object *m, void *data)
{
	struct stale_search *q = data;
	struct json_object *obj, *op;
	if (live || !json_object_object_get_ex(m, "object", &obj) || strcmp(json_object_get_string(obj), q->ref) != 0 ||
	    !json_object_object_get_ex(m, "op", &op))
		return 0;
	snprintf(q->op, q->size, "%s", json_object_get_string(op));
	/* Taken under its lock, so no new operation is writing it meanwhile. */
	static const char empty = 0;
	if (lock_slot(e->oplock_fd, offset, F_WRLCK, F_OFD_SETLK) == 0) {
		if (pwrite(e->oplock_fd, &empty, 1, (off_t)offset) != 1)
			q->op[0] = 0;
		lock_slot(e->oplock_fd, offset, F_UNLCK, F_OFD_SETLK);
	}
	return 1;
}

int inflight_take_stale(struct engine *e, const char *ref, char *op, size_t size)
{
	struct stale_search q = { ref, op, size };
	op[0] = 0;
	int r = for_each_slot(e, take_if_stale, &q);
	return r < 0 ? r : op[0] != 0;
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
	if (json_object_object_get_ex(marker, "progress", &v))
		json_object_object_add(t, "progress", json_object_get(v));
	return t;
}

struct live_ops {
	struct json_object *by_object, *tasks;
};

static int add_live(struct engine *e, uint64_t offset, bool live, struct json_object *m, void *data)
{
	struct live_ops *out = data;
	struct json_object *obj, *task, *op, *ops;
	if (!live || !json_object_object_get_ex(m, "object", &obj) || !json_object_object_get_ex(m, "task", &task) ||
	    !json_object_object_get_ex(m, "op", &op))
		return 0;
	if (!json_object_object_get_ex(out->by_object, json_object_get_string(obj), &ops)) {
		ops = json_object_new_object();
		json_object_object_add(out->by_object, json_object_get_string(obj), ops);
	}
	json_object_object_add(ops, json_object_get_string(task), json_object_get(op));
	if (out->tasks)
		json_object_object_add(out->tasks, json_object_get_string(task), task_record(e, m));
	return 0;
}

int inflight_read(struct engine *e, struct json_object **by_object, struct json_object **tasks)
{
	struct live_ops out = { json_object_new_object(), tasks ? json_object_new_object() : NULL };
	int r = for_each_slot(e, add_live, &out);
	if (r < 0) {
		json_object_put(out.by_object);
		json_object_put(out.tasks);
		return r;
	}
	*by_object = out.by_object;
	if (tasks)
		*tasks = out.tasks;
	return 0;
}
