/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing and strictly reading the sim's save file (format in save.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "save.h"

#define SAVE_MAGIC "XVMSIMSV"
#define SAVE_VERSION 1u
#define SAVE_MAX_SIZE 65536 /* far more than a valid file needs */

enum {
	REC_END = 0,
	REC_DOMAIN = 1,
	REC_RUNSTATE = 2,
};

#define DOMAIN_LEN 56
#define RUNSTATE_LEN 32
#define END_LEN 4

struct buf {
	uint8_t data[256];
	size_t len;
};

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	put(b, x, sizeof x);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void encode(struct buf *b, const struct sim_saved *s)
{
	put(b, SAVE_MAGIC, 8);
	put32(b, SAVE_VERSION);
	put32(b, 0);

	put32(b, REC_DOMAIN);
	put32(b, DOMAIN_LEN);
	put(b, s->uuid, sizeof s->uuid);
	put32(b, s->vcpus_max);
	put32(b, 0);
	put64(b, s->memory_static_max_kib);

	put32(b, REC_RUNSTATE);
	put32(b, RUNSTATE_LEN);
	put32(b, s->vcpus_online);
	put32(b, s->pending_shutdown);
	put64(b, s->memory_target_kib);
	put64(b, s->start_time);
	put64(b, s->cpu_time_ns);

	uint32_t crc = crc32(b->data, b->len);
	put32(b, REC_END);
	put32(b, END_LEN);
	put32(b, crc);
	put32(b, 0); /* padding */
}

int sim_save_write(const char *path, const struct sim_saved *s)
{
	struct buf b = { .len = 0 };
	char *tmp;
	int fd, r = 0;

	encode(&b, s);
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		xvm_hv_set_error("cannot create a save file next to %s: %s", path, strerror(-r));
		free(tmp);
		return r;
	}
	if (write(fd, b.data, b.len) != (ssize_t)b.len) {
		r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot write %s: %s", tmp, strerror(-r));
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		xvm_hv_set_error("cannot write %s: %s", tmp, strerror(-r));
	}
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot rename %s to %s: %s", tmp, path, strerror(-r));
	}
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static int corrupt(const char *path, const char *why)
{
	xvm_hv_set_error("save file %s: %s", path, why);
	return -EINVAL;
}

static int check_values(const char *path, const struct sim_saved *s)
{
	if (!hv_uuid_valid(s->uuid))
		return corrupt(path, "DOMAIN record has no valid uuid");
	if (s->vcpus_max < 1 || s->vcpus_max > SIM_MAX_VCPUS ||
	    s->vcpus_online < 1 || s->vcpus_online > s->vcpus_max)
		return corrupt(path, "vCPU counts out of range");
	if (!s->memory_static_max_kib || !s->memory_target_kib ||
	    s->memory_target_kib > s->memory_static_max_kib)
		return corrupt(path, "memory sizes out of range");
	if (s->pending_shutdown > XVM_HC_SHUTDOWN_SUSPEND + 1)
		return corrupt(path, "unknown pending shutdown request");
	return 0;
}

static int decode(const char *path, const uint8_t *p, size_t size, struct sim_saved *ret)
{
	struct sim_saved s = { .vcpus_max = 0 };
	bool have_domain = false, have_runstate = false;
	size_t off = 16;

	if (size < 16)
		return corrupt(path, "truncated header");
	if (memcmp(p, SAVE_MAGIC, 8))
		return corrupt(path, "not a sim save file (bad magic)");
	if (get32(p + 8) != SAVE_VERSION) {
		xvm_hv_set_error("save file %s: format version %u; this build reads version %u",
				 path, get32(p + 8), SAVE_VERSION);
		return -EINVAL;
	}
	for (;;) {
		uint32_t type, len;
		const uint8_t *q;

		if (size - off < 8)
			return corrupt(path, "truncated: no END record");
		type = get32(p + off);
		len = get32(p + off + 4);
		if (size - off - 8 < pad8(len))
			return corrupt(path, "truncated record");
		q = p + off + 8;
		for (size_t i = len; i < pad8(len); i++)
			if (q[i])
				return corrupt(path, "non-zero record padding");
		switch (type) {
		case REC_DOMAIN:
			if (have_domain || len != DOMAIN_LEN)
				return corrupt(path, "bad DOMAIN record");
			have_domain = true;
			memcpy(s.uuid, q, sizeof s.uuid);
			if (s.uuid[sizeof s.uuid - 1])
				return corrupt(path, "DOMAIN record has no valid uuid");
			s.vcpus_max = get32(q + 40);
			s.memory_static_max_kib = get64(q + 48);
			break;
		case REC_RUNSTATE:
			if (have_runstate || len != RUNSTATE_LEN)
				return corrupt(path, "bad RUNSTATE record");
			have_runstate = true;
			s.vcpus_online = get32(q);
			s.pending_shutdown = get32(q + 4);
			s.memory_target_kib = get64(q + 8);
			s.start_time = get64(q + 16);
			s.cpu_time_ns = get64(q + 24);
			break;
		case REC_END:
			if (len != END_LEN)
				return corrupt(path, "bad END record");
			if (get32(q) != crc32(p, off))
				return corrupt(path, "checksum mismatch");
			if (off + 8 + pad8(len) != size)
				return corrupt(path, "data after the END record");
			if (!have_domain || !have_runstate)
				return corrupt(path, "DOMAIN or RUNSTATE record missing");
			if (check_values(path, &s) < 0)
				return -EINVAL;
			*ret = s;
			return 0;
		default:
			return corrupt(path, "unknown record type");
		}
		off += 8 + pad8(len);
	}
}

int sim_save_read(const char *path, struct sim_saved *ret)
{
	uint8_t *data;
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		xvm_hv_set_error("cannot open save file %s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SAVE_MAX_SIZE) {
		close(fd);
		return corrupt(path, "not a regular file of a plausible size");
	}
	data = malloc(st.st_size ? st.st_size : 1);
	if (!data) {
		close(fd);
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	n = pread(fd, data, st.st_size, 0);
	if (n < 0) {
		r = -errno;
		xvm_hv_set_error("cannot read save file %s: %s", path, strerror(-r));
	} else {
		r = decode(path, data, n, ret);
	}
	free(data);
	close(fd);
	return r;
}
