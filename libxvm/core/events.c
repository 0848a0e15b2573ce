/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/events.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/log.h"
#include "core/methods.h"
#include "core/util.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/changelog.h"
#include "store/store.h"

#define MAX_TIMEOUT_S 86400.0
/* A waiter looks again at least this often even if no wake-up came (a
 * watch that could not be set up, say). */
#define SAFETY_POLL_MS 5000
#define MAX_EVENTS 50000 /* per call; the token says where the next one starts */

struct event_feed {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	uint64_t gen;           /* bumped on every wake-up */
	bool interrupted;       /* events_interrupt: no more waiting */
	bool watching;
	pthread_t watcher;
	int stop_fd;            /* eventfd that ends the watcher */
	int inotify_fd;
};

static void feed_wake(void *data)
{
	struct event_feed *f = data;
	pthread_mutex_lock(&f->lock);
	f->gen++;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

/* Every commit, of any process, writes xvm.db-wal: but its frames first,
 * and the index (the -shm file, written through mmap, which inotify does
 * not see) that makes it visible just after. So a write to the WAL wakes
 * the waiters at once and again a little later, until one of those
 * follow-ups must come after the commit showed. */
static const int followup_ms[] = { 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256 };

static void *watch(void *data)
{
	struct event_feed *f = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd fds[2] = { { .fd = f->inotify_fd, .events = POLLIN }, { .fd = f->stop_fd, .events = POLLIN } };
	size_t next = sizeof(followup_ms) / sizeof(followup_ms[0]); /* no follow-up due */
	int waited = 0;
	for (;;) {
		bool due = next < sizeof(followup_ms) / sizeof(followup_ms[0]);
		int timeout = due ? followup_ms[next] - waited : -1;
		int n = poll(fds, 2, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (n == 0 && due) {
			waited = followup_ms[next++];
			feed_wake(f);
			continue;
		}
		if (!(fds[0].revents & POLLIN))
			continue;
		ssize_t len = read(f->inotify_fd, buf, sizeof(buf));
		bool wal = false;
		for (char *p = buf; len > 0 && p < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			wal |= ev->len && strcmp(ev->name, "xvm.db-wal") == 0;
			p += sizeof(*ev) + ev->len;
		}
		if (wal) {
			feed_wake(f);
			next = 0;
			waited = 0;
		}
	}
	return NULL;
}

/* Starts the watch of the state dir once, at the first wait. */
static void ensure_watch(struct engine *e)
{
	struct event_feed *f = e->feed;
	pthread_mutex_lock(&f->lock);
	if (!f->watching) {
		f->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		f->stop_fd = eventfd(0, EFD_CLOEXEC);
		if (f->inotify_fd >= 0 && f->stop_fd >= 0 &&
		    inotify_add_watch(f->inotify_fd, e->state_dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) >= 0 &&
		    pthread_create(&f->watcher, NULL, watch, f) == 0) {
			f->watching = true;
		} else {
			log_warning("events: cannot watch %s (%s): other processes' changes show within %d ms",
				    e->state_dir, strerror(errno), SAFETY_POLL_MS);
			if (f->inotify_fd >= 0)
				close(f->inotify_fd);
			if (f->stop_fd >= 0)
				close(f->stop_fd);
			f->inotify_fd = f->stop_fd = -1;
		}
	}
	pthread_mutex_unlock(&f->lock);
}

void events_interrupt(struct engine *e)
{
	struct event_feed *f = e->feed;
	pthread_mutex_lock(&f->lock);
	f->interrupted = true;
	f->gen++;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

int events_open(struct engine *e)
{
	struct event_feed *f = calloc(1, sizeof(*f));
	if (!f)
		return error_oom();
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->changed, &ca);
	pthread_condattr_destroy(&ca);
	f->stop_fd = f->inotify_fd = -1;
	e->feed = f;
	store_set_commit_hook(e->store, feed_wake, f);
	return changelog_ensure(e->store);
}

void events_close(struct engine *e)
{
	struct event_feed *f = e->feed;
	if (!f)
		return;
	if (e->store)
		store_set_commit_hook(e->store, NULL, NULL);
	if (f->watching) {
		uint64_t one = 1;
		if (write(f->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(f->watcher, NULL);
	}
	if (f->inotify_fd >= 0)
		close(f->inotify_fd);
	if (f->stop_fd >= 0)
		close(f->stop_fd);
	pthread_cond_destroy(&f->changed);
	pthread_mutex_destroy(&f->lock);
	free(f);
	e->feed = NULL;
}

/* --- what a caller asked for ------------------------------------------------ */

struct filter {
	bool all;
	const struct class_def *classes[64];
	size_t nclasses;
	struct { const struct class_def *c; char ref[XVM_REF_BUFLEN]; } objects[64];
	size_t nobjects;
};

/* "*", a class name in any case ("vm", "VM"), or "class/ref". Names of
 * classes this xvm does not have are accepted and match nothing, as a
 * client may ask for every class it knows. */
static int parse_filter(struct json_object *classes, struct filter *f)
{
	if (!json_object_is_type(classes, json_type_array))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "classes", "classes must be an array of class names");
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < json_object_array_length(classes); i++) {
		struct json_object *v = json_object_array_get_idx(classes, i);
		if (!json_object_is_type(v, json_type_string))
			return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "classes", "classes must be an array of class names");
		const char *name = json_object_get_string(v), *slash = strchr(name, '/');
		if (strcmp(name, "*") == 0) {
			f->all = true;
			continue;
		}
		size_t n = slash ? (size_t)(slash - name) : strlen(name);
		const struct class_def *c = NULL;
		for (size_t k = 0; k < class_def_count() && !c; k++)
			if (strlen(class_def_at(k)->info.name) == n && strncasecmp(class_def_at(k)->info.name, name, n) == 0)
				c = class_def_at(k);
		if (!c)
			continue;
		if (slash && f->nobjects < 64 && strlen(slash + 1) < XVM_REF_BUFLEN) {
			f->objects[f->nobjects].c = c;
			snprintf(f->objects[f->nobjects++].ref, XVM_REF_BUFLEN, "%s", slash + 1);
		} else if (!slash && f->nclasses < 64) {
			f->classes[f->nclasses++] = c;
		}
	}
	return 0;
}

static bool wants_class(const struct filter *f, const struct class_def *c)
{
	if (f->all)
		return true;
	for (size_t i = 0; i < f->nclasses; i++)
		if (f->classes[i] == c)
			return true;
	return false;
}

static bool wants(const struct filter *f, const struct class_def *c, const char *ref)
{
	if (wants_class(f, c))
		return true;
	for (size_t i = 0; i < f->nobjects; i++)
		if (f->objects[i].c == c && strcmp(f->objects[i].ref, ref) == 0)
			return true;
	return false;
}

/* --- building the answer ------------------------------------------------------ */

static void lower(const char *in, char *out, size_t size)
{
	size_t i = 0;
	for (; in[i] && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = 0;
}

static struct json_object *event(int64_t id, int64_t ts, const struct class_def *c, const char *ref, const char *op,
				 struct json_object *snapshot)
{
	char cls[64], when[XVM_DATETIME_BUFLEN];
	lower(c->info.name, cls, sizeof(cls));
	datetime_format((time_t)ts, when);
	struct json_object *ev = json_object_new_object();
	json_object_object_add(ev, "id", json_object_new_int64(id));
	json_object_object_add(ev, "timestamp", json_object_new_string(when));
	json_object_object_add(ev, "class", json_object_new_string(cls));
	json_object_object_add(ev, "operation", json_object_new_string(op));
	json_object_object_add(ev, "ref", json_object_new_string(ref));
	if (snapshot)
		json_object_object_add(ev, "snapshot", snapshot);
	return ev;
}

/* Changes since a token, one event per object (XenAPI's coalescing): add
 * if it was created since, del if it is gone, else mod. */
struct collect {
	const struct filter *f;
	struct json_object *seen;   /* "class\tref" -> [first op, last op, id, ts] */
	struct json_object *order;  /* keys in order of their last change */
	int64_t last_id;
	size_t n;
};

static int collect_row(const struct changelog_row *row, void *data)
{
	struct collect *k = data;
	k->last_id = row->id;
	const struct class_def *c = class_def_lookup(row->cls);
	if (!c || !wants(k->f, c, row->ref))
		return 0;
	char key[160];
	snprintf(key, sizeof(key), "%s\t%s", row->cls, row->ref);
	struct json_object *e;
	if (!json_object_object_get_ex(k->seen, key, &e)) {
		e = json_object_new_array();
		json_object_array_add(e, json_object_new_string(row->op));
		json_object_array_add(e, NULL);
		json_object_array_add(e, NULL);
		json_object_array_add(e, NULL);
		json_object_object_add(k->seen, key, e);
		json_object_array_add(k->order, json_object_new_string(key));
		k->n++;
	}
	json_object_array_put_idx(e, 1, json_object_new_string(row->op));
	json_object_array_put_idx(e, 2, json_object_new_int64(row->id));
	json_object_array_put_idx(e, 3, json_object_new_int64(row->ts));
	/* Stop at a whole number of rows: the token resumes after the last one read. */
	return k->n >= MAX_EVENTS;
}

static int changes_since(struct engine *e, const struct filter *f, int64_t since, struct json_object *events,
			 int64_t *token)
{
	struct collect k = { f, json_object_new_object(), json_object_new_array(), since, 0 };
	int r = changelog_scan(e->store, since, collect_row, &k);
	for (size_t i = 0; r >= 0 && i < json_object_array_length(k.order); i++) {
		const char *key = json_object_get_string(json_object_array_get_idx(k.order, i));
		struct json_object *s = json_object_object_get(k.seen, key);
		const char *tab = strchr(key, '\t');
		char cls[64];
		snprintf(cls, sizeof(cls), "%.*s", (int)(tab - key), key);
		const struct class_def *c = class_def_lookup(cls);
		const char *first = json_object_get_string(json_object_array_get_idx(s, 0));
		const char *last = json_object_get_string(json_object_array_get_idx(s, 1));
		const char *op = strcmp(last, "del") == 0 ? "del" : strcmp(first, "add") == 0 ? "add" : "mod";
		struct json_object *snap = NULL;
		if (strcmp(op, "del") != 0 && rec_read(e, c, tab + 1, &snap) == -XVM_ERR_HANDLE_INVALID)
			op = "del"; /* gone since: a later row says so, past what was read */
		json_object_array_add(events, event(json_object_get_int64(json_object_array_get_idx(s, 2)),
						    json_object_get_int64(json_object_array_get_idx(s, 3)), c, tab + 1, op,
						    snap));
	}
	error_clear();
	json_object_put(k.seen);
	json_object_put(k.order);
	if (r < 0)
		return r;
	*token = k.last_id;
	return 0;
}

/* Every object of the classes asked for, as add events (an empty token). */
static int snapshot_all(struct engine *e, const struct filter *f, struct json_object *events)
{
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < class_def_count(); i++) {
		const struct class_def *c = class_def_at(i);
		struct json_object *all;
		bool some = wants_class(f, c);
		for (size_t k = 0; k < f->nobjects && !some; k++)
			some = f->objects[k].c == c;
		if (!some)
			continue;
		int r = rec_read_all(e, c, &all);
		if (r < 0)
			return r;
		json_object_object_foreach(all, ref, rec) {
			if (wants(f, c, ref))
				json_object_array_add(events, event(0, now, c, ref, "add", json_object_get(rec)));
		}
		json_object_put(all);
	}
	return 0;
}

static int ref_counts(struct engine *e, const struct filter *f, struct json_object **ret)
{
	struct json_object *counts = json_object_new_object();
	for (size_t i = 0; i < class_def_count(); i++) {
		const struct class_def *c = class_def_at(i);
		if (!wants_class(f, c))
			continue;
		char sql[96], name[64];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", c->info.name);
		sqlite3_stmt *st = store_stmt(e->store, sql);
		if (!st || sqlite3_step(st) != SQLITE_ROW) {
			if (st)
				sqlite3_reset(st);
			json_object_put(counts);
			return st ? store_error(e->store, "count objects") : -XVM_ERR_STORE_ERROR;
		}
		lower(c->info.name, name, sizeof(name));
		json_object_object_add(counts, name, json_object_new_int64(sqlite3_column_int64(st, 0)));
		sqlite3_reset(st);
	}
	*ret = counts;
	return 0;
}

/* One look at the log, in one read transaction. *found: whether to answer now. */
static int look(struct engine *e, const struct filter *f, bool fresh, int64_t *token, struct json_object *events)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	int64_t oldest, newest;
	r = changelog_bounds(e->store, &oldest, &newest);
	/* A token older than what the log keeps, or none: start from a full
	 * snapshot, as a new client would. */
	if (r == 0 && (fresh || (oldest > 0 && *token < oldest - 1) || *token > newest)) {
		if ((r = snapshot_all(e, f, events)) == 0)
			*token = newest;
	} else if (r == 0) {
		r = changes_since(e, f, *token, events, token);
	}
	store_rollback(e->store);
	return r;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int arg_seconds(struct json_object *args, size_t i, double *ret)
{
	struct json_object *v = json_object_array_get_idx(args, i);
	double d = NAN;
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
		d = json_object_get_double(v);
	else if (json_object_is_type(v, json_type_string) && parse_double(json_object_get_string(v), &d) < 0)
		d = NAN;
	if (!(d >= 0))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "timeout", "timeout must be a number of seconds, 0 or more");
	*ret = d > MAX_TIMEOUT_S ? MAX_TIMEOUT_S : d;
	return 0;
}

static int m_from(struct engine *e, struct json_object *args, struct json_object **result)
{
	struct filter f;
	const char *token_text;
	double timeout = 0;
	int r;
	if ((r = parse_filter(json_object_array_get_idx(args, 0), &f)) < 0 ||
	    (r = arg_string(args, 1, "token", &token_text)) < 0 || (r = arg_seconds(args, 2, &timeout)) < 0)
		return r;
	int64_t token = 0;
	bool fresh = !*token_text;
	if (!fresh && (parse_int64(token_text, &token) < 0 || token < 0))
		return ERR2(XVM_ERR_INVALID_VALUE, "token", token_text, "'%s' is not a token event.from gave", token_text);
	uint64_t deadline = now_ms() + (uint64_t)(timeout * 1000);
	struct json_object *events = json_object_new_array();
	for (;;) {
		struct event_feed *fd = e->feed;
		pthread_mutex_lock(&fd->lock);
		uint64_t gen = fd->gen;
		bool interrupted = fd->interrupted;
		pthread_mutex_unlock(&fd->lock);
		if ((r = look(e, &f, fresh, &token, events)) < 0)
			break;
		fresh = false;
		uint64_t now = now_ms();
		if (json_object_array_length(events) || now >= deadline || interrupted)
			break;
		ensure_watch(e);
		uint64_t until = deadline < now + SAFETY_POLL_MS ? deadline : now + SAFETY_POLL_MS;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (until - now) * 1000000;
		ts.tv_sec += (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		pthread_mutex_lock(&fd->lock);
		while (fd->gen == gen && pthread_cond_timedwait(&fd->changed, &fd->lock, &ts) == 0)
			;
		pthread_mutex_unlock(&fd->lock);
	}
	struct json_object *counts = NULL;
	if (r == 0 && (r = store_begin_read(e->store)) == 0) {
		r = ref_counts(e, &f, &counts);
		store_rollback(e->store);
	}
	if (r < 0) {
		json_object_put(events);
		return r;
	}
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)token);
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "events", events);
	json_object_object_add(out, "valid_ref_counts", counts);
	json_object_object_add(out, "token", json_object_new_string(text));
	*result = out;
	return 0;
}

static int m_inject(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *cls_name, *ref;
	int r;
	if ((r = arg_string(args, 0, "class", &cls_name)) < 0 || (r = arg_string(args, 1, "ref", &ref)) < 0)
		return r;
	const struct class_def *c = NULL;
	for (size_t k = 0; k < class_def_count() && !c; k++)
		if (strcasecmp(class_def_at(k)->info.name, cls_name) == 0)
			c = class_def_at(k);
	if (!c)
		return ERR2(XVM_ERR_INVALID_VALUE, "class", cls_name, "there is no class %s", cls_name);
	if ((r = store_begin_write(e->store)) < 0)
		return r;
	r = rec_exists(e, c, ref);
	if (r == 0)
		r = rec_handle_invalid(c, ref);
	if (r > 0)
		r = changelog_add(e->store, c->info.name, ref, "mod");
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)sqlite3_last_insert_rowid(store_db(e->store)));
	if ((r = store_commit(e->store)) < 0)
		return r;
	*result = json_object_new_string(text);
	return 0;
}

const struct method event_methods[] = {
	{ "event.from", m_from, 3,
	  "Changes since a token, waiting up to timeout seconds for one (classes, token, timeout) -> "
	  "{events, valid_ref_counts, token}; token \"\" gives every object" },
	{ "event.inject", m_inject, 2, "Makes a mod event for an object (class, ref) -> token" },
	{ NULL },
};
