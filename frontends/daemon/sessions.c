/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sessions.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#define BUCKETS 4096 /* power of two */

struct session {
	char ref[SESSION_REF_LEN];
	struct session_info info;
	uint64_t last_used;     /* CLOCK_MONOTONIC, ms: for expiry */
	uint64_t use_seq;       /* order of use: for eviction (ms ties) */
	struct session *next;   /* in its bucket */
};

struct sessions {
	pthread_mutex_t lock;
	uint64_t idle_ms;
	unsigned max_per_user;
	size_t count;
	uint64_t seq;
	struct session *buckets[BUCKETS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & (BUCKETS - 1);
}

struct sessions *sessions_new(unsigned idle_timeout_s, unsigned max_per_user)
{
	struct sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->idle_ms = (uint64_t)idle_timeout_s * 1000;
	s->max_per_user = max_per_user;
	return s;
}

void sessions_free(struct sessions *s)
{
	if (!s)
		return;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct session *x = s->buckets[b], *n; x; x = n) {
			n = x->next;
			free(x);
		}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void unlink_session(struct sessions *s, struct session **link)
{
	struct session *x = *link;
	*link = x->next;
	free(x);
	s->count--;
}

/* Drops expired sessions; returns the user's live sessions and its least
 * recently used one (the link pointing at it). */
static size_t sweep(struct sessions *s, uint64_t now, const char *user, struct session ***lru)
{
	size_t n = 0;
	*lru = NULL;
	for (size_t b = 0; b < BUCKETS; b++) {
		for (struct session **link = &s->buckets[b]; *link;) {
			struct session *x = *link;
			if (now - x->last_used > s->idle_ms) {
				unlink_session(s, link);
				continue;
			}
			if (user && strcmp(x->info.user, user) == 0) {
				n++;
				if (!*lru || x->use_seq < (**lru)->use_seq)
					*lru = link;
			}
			link = &x->next;
		}
	}
	return n;
}

int sessions_open(struct sessions *s, const struct session_info *info, char ref[SESSION_REF_LEN])
{
	struct session *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	uuid_t u;
	char text[37];
	uuid_generate_random(u);
	uuid_unparse_lower(u, text);
	snprintf(x->ref, sizeof(x->ref), "OpaqueRef:%s", text);
	x->info = *info;
	pthread_mutex_lock(&s->lock);
	uint64_t now = now_ms();
	x->last_used = now;
	x->use_seq = ++s->seq;
	struct session **lru;
	/* Logins are rare next to calls: a full sweep here keeps the table
	 * free of expired sessions without a timer thread. */
	if (sweep(s, now, info->user, &lru) >= s->max_per_user && lru)
		unlink_session(s, lru);
	uint32_t b = hash(x->ref);
	x->next = s->buckets[b];
	s->buckets[b] = x;
	s->count++;
	pthread_mutex_unlock(&s->lock);
	memcpy(ref, x->ref, SESSION_REF_LEN);
	return 0;
}

static struct session **find(struct sessions *s, const char *ref)
{
	struct session **link = &s->buckets[hash(ref)];
	while (*link && strcmp((*link)->ref, ref) != 0)
		link = &(*link)->next;
	return link;
}

bool sessions_touch(struct sessions *s, const char *ref, struct session_info *info)
{
	pthread_mutex_lock(&s->lock);
	uint64_t now = now_ms();
	struct session **link = find(s, ref);
	bool live = *link && now - (*link)->last_used <= s->idle_ms;
	if (live) {
		(*link)->last_used = now;
		(*link)->use_seq = ++s->seq;
		if (info)
			*info = (*link)->info;
	} else if (*link) {
		unlink_session(s, link);
	}
	pthread_mutex_unlock(&s->lock);
	return live;
}

bool sessions_close(struct sessions *s, const char *ref)
{
	pthread_mutex_lock(&s->lock);
	struct session **link = find(s, ref);
	bool found = *link != NULL;
	if (found)
		unlink_session(s, link);
	pthread_mutex_unlock(&s->lock);
	return found;
}
