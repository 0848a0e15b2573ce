/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

int parse_int64(const char *s, int64_t *ret)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_double(const char *s, double *ret)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || !isfinite(v))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Random bytes from the kernel, fetched a page at a time: libuuid makes
 * four system calls per UUID, and an operation makes several UUIDs. */
static void random_bytes(unsigned char *out, size_t n)
{
	static _Thread_local unsigned char pool[4096];
	static _Thread_local size_t avail;
	static _Thread_local pid_t owner;
	if (owner != getpid()) {
		avail = 0; /* a forked child must not repeat its parent's bytes */
		owner = getpid();
	}
	if (avail < n) {
		size_t got = 0;
		while (got < sizeof(pool)) {
			ssize_t r = getrandom(pool + got, sizeof(pool) - got, 0);
			if (r > 0)
				got += (size_t)r;
		}
		avail = sizeof(pool);
	}
	memcpy(out, pool + sizeof(pool) - avail, n);
	avail -= n;
}

void uuid_generate_str(char out[XVM_UUID_BUFLEN])
{
	uuid_t u;
	random_bytes(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	uuid_unparse_lower(u, out);
}

bool uuid_valid(const char *s)
{
	uuid_t u;
	return s && strlen(s) == 36 && uuid_parse(s, u) == 0;
}

void ref_generate(char out[XVM_REF_BUFLEN])
{
	memcpy(out, XVM_REF_PREFIX, 10);
	uuid_generate_str(out + 10);
}

bool ref_valid(const char *s)
{
	return s && strncmp(s, XVM_REF_PREFIX, 10) == 0 && s[10] && strlen(s) < 128;
}

bool ref_is_null(const char *s)
{
	return !s || !*s || strcmp(s, XVM_NULL_REF) == 0;
}

void datetime_format(time_t t, char out[XVM_DATETIME_BUFLEN])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, XVM_DATETIME_BUFLEN, "%Y%m%dT%H:%M:%SZ", &tm);
}

bool datetime_valid(const char *s)
{
	/* XenAPI's form: 8 digits, 'T', hh:mm:ss, 'Z' */
	static const char shape[] = "ddddddddTdd:dd:ddZ";
	if (!s || strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	struct tm tm = { 0 };
	if (!strptime(s, "%Y%m%dT%H:%M:%SZ", &tm))
		return false;
	/* strptime takes 31 February; a round trip through timegm does not. */
	struct tm norm = tm;
	time_t t = timegm(&norm);
	return t != (time_t)-1 && norm.tm_mday == tm.tm_mday && norm.tm_mon == tm.tm_mon &&
	       norm.tm_hour == tm.tm_hour && norm.tm_min == tm.tm_min && norm.tm_sec == tm.tm_sec;
}

int mkdir_p(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return -ENOMEM;
	int r = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char saved = *s;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*s = saved;
		if (!saved)
			break;
	}
	free(p);
	return r;
}
