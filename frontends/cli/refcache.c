/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small open-addressing hash of reference -> UUID. */
#include "refcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOT_IN_DB "<not in database>"

struct entry {
	char *ref;
	char *uuid;   /* NULL: not in the database */
};

struct cli_refcache {
	xvm_conn *conn;
	struct entry *slots;
	size_t cap, used;
};

struct cli_refcache *cli_refcache_new(xvm_conn *conn)
{
	struct cli_refcache *c = calloc(1, sizeof(*c));
	if (c)
		c->conn = conn;
	return c;
}

void cli_refcache_free(struct cli_refcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		free(c->slots[i].ref), free(c->slots[i].uuid);
	free(c->slots);
	free(c);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct entry *slot(struct entry *slots, size_t cap, const char *ref)
{
	size_t i = hash(ref) & (cap - 1);
	while (slots[i].ref && strcmp(slots[i].ref, ref) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct cli_refcache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 64;
	struct entry *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].ref)
			*slot(slots, cap, c->slots[i].ref) = c->slots[i];
	free(c->slots);
	c->slots = slots;
	c->cap = cap;
	return 0;
}

static char *fetch_uuid(struct cli_refcache *c, const char *cls, const char *ref)
{
	struct json_object *v = NULL;
	char *uuid = NULL;
	if (xvm_object_get_field(c->conn, cls, ref, "uuid", &v) == 0 && json_object_is_type(v, json_type_string))
		uuid = strdup(json_object_get_string(v));
	json_object_put(v);
	return uuid;
}

const char *cli_refcache_uuid(void *cache, const char *cls, const char *ref)
{
	struct cli_refcache *c = cache;
	if (!ref || !*ref || strcmp(ref, "OpaqueRef:NULL") == 0 || !cls)
		return NOT_IN_DB;
	if (c->used * 2 >= c->cap && grow(c) < 0)
		return NOT_IN_DB;
	struct entry *e = slot(c->slots, c->cap, ref);
	if (!e->ref) {
		if (!(e->ref = strdup(ref)))
			return NOT_IN_DB;
		e->uuid = fetch_uuid(c, cls, ref);
		c->used++;
	}
	return e->uuid ? e->uuid : NOT_IN_DB;
}
