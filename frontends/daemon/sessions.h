/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sessions, as XenAPI's: an opaque reference handed out at login and
 * passed first to every call. They live in the daemon's memory (a restart
 * logs everyone out, as xapi's does), expire after being idle, and each
 * user holds at most a configured number: a login past it evicts that
 * user's least recently used session.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct sessions;

#define SESSION_REF_LEN 47 /* "OpaqueRef:" + UUID + NUL */

struct session_info {
	char user[256];
	char originator[128];
	char auth[16];          /* "password", "token" or "local" */
};

struct sessions *sessions_new(unsigned idle_timeout_s, unsigned max_per_user);
void sessions_free(struct sessions *s);

/* Opens a session; ref receives its reference. 0 or -ENOMEM. */
int sessions_open(struct sessions *s, const struct session_info *info, char ref[SESSION_REF_LEN]);
/* Whether ref names a live session; marks it used and copies it to info (may be NULL). */
bool sessions_touch(struct sessions *s, const char *ref, struct session_info *info);
/* Closes a session; false if there was none. */
bool sessions_close(struct sessions *s, const char *ref);
