/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "templates/ova_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error_internal.h"

#define BLOCK 512
#define CHUNK (1u << 20)

static int write_error(const char *out_name, int err)
{
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "write the OVA", out_name, "cannot write %s: %s", out_name,
		    strerror(err));
}

static int write_all(int fd, const char *out_name, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return write_error(out_name, w < 0 ? errno : ENOSPC);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void hex_of(const unsigned char *d, char hex[SHA256_HEX_LEN])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static int hash_init(gnutls_hash_hd_t *h)
{
	if (gnutls_hash_init(h, GNUTLS_DIG_SHA256) < 0)
		return ERR0(XVM_ERR_INTERNAL_ERROR, "cannot compute SHA-256 digests");
	return 0;
}

static void hash_end(gnutls_hash_hd_t h, char hex[SHA256_HEX_LEN])
{
	unsigned char d[32];
	gnutls_hash_deinit(h, d);
	hex_of(d, hex);
}

static int write_header(int fd, const char *out_name, const char *name, uint64_t size)
{
	unsigned char h[BLOCK] = { 0 };
	if (strlen(name) >= 100)
		return ERR2(XVM_ERR_INVALID_VALUE, "name", name, "OVA member name too long: %s", name);
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	/* 11 octal digits hold 8 GiB; beyond, the base-256 form GNU tar and libarchive read. */
	if (size < 077777777777ull) {
		snprintf((char *)h + 124, 12, "%011" PRIo64, size);
	} else {
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	}
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)time(NULL));
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	return write_all(fd, out_name, h, BLOCK);
}

static int pad(int fd, const char *out_name, uint64_t size)
{
	static const char zeros[BLOCK];
	size_t n = (size_t)((BLOCK - size % BLOCK) % BLOCK);
	return n ? write_all(fd, out_name, zeros, n) : 0;
}

int ova_tar_add_buffer(int fd, const char *out_name, const char *name, const void *buf, size_t len,
		       char hex[SHA256_HEX_LEN])
{
	int r;
	if ((r = write_header(fd, out_name, name, len)) < 0 || (r = write_all(fd, out_name, buf, len)) < 0 ||
	    (r = pad(fd, out_name, len)) < 0)
		return r;
	unsigned char d[32];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, d);
	hex_of(d, hex);
	return 0;
}

/* Feeds the file `in` to the hash and, when out >= 0, to out; *size gets its length. */
static int copy_hashing(int in, const char *path, int out, const char *out_name, uint64_t *size,
			char hex[SHA256_HEX_LEN])
{
	gnutls_hash_hd_t h;
	int r = hash_init(&h);
	if (r < 0)
		return r;
	char *buf = malloc(CHUNK);
	if (!buf) {
		hash_end(h, hex);
		return error_oom();
	}
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(in, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "read", path, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		gnutls_hash(h, buf, (size_t)n);
		total += (uint64_t)n;
		if (out >= 0 && (r = write_all(out, out_name, buf, (size_t)n)) < 0)
			break;
	}
	free(buf);
	hash_end(h, hex);
	if (size)
		*size = total;
	return r;
}

int ova_sha256_file(const char *path, char hex[SHA256_HEX_LEN])
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return ERR2(XVM_ERR_IMPORT_ERROR, path, "cannot read", "cannot read %s: %s", path, strerror(errno));
	int r = copy_hashing(in, path, -1, NULL, NULL, hex);
	close(in);
	return r;
}

int ova_tar_add_file(int fd, const char *out_name, const char *name, const char *path, char hex[SHA256_HEX_LEN])
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "read", path, "cannot read %s: %s", path, strerror(errno));
	off_t size = lseek(in, 0, SEEK_END);
	uint64_t copied = 0;
	int r = size < 0 || lseek(in, 0, SEEK_SET) < 0
			? ERR2(XVM_ERR_SR_BACKEND_FAILURE, "read", path, "cannot read %s: %s", path, strerror(errno))
			: write_header(fd, out_name, name, (uint64_t)size);
	if (r == 0)
		r = copy_hashing(in, path, fd, out_name, &copied, hex);
	if (r == 0 && copied != (uint64_t)size)
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "read", path, "%s changed size while it was archived", path);
	if (r == 0)
		r = pad(fd, out_name, copied);
	close(in);
	return r;
}

int ova_tar_finish(int fd, const char *out_name)
{
	static const char zeros[2 * BLOCK];
	return write_all(fd, out_name, zeros, sizeof(zeros));
}

/* --- Reading ------------------------------------------------------------------- */

static int bad_tar(const char *path, const char *why)
{
	return ERR2(XVM_ERR_IMPORT_ERROR, path, why, "%s is not a valid OVA: %s", path, why);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int parse_size(const unsigned char *f, uint64_t *size)
{
	uint64_t v = 0;
	if (f[0] & 0x80) {
		for (int i = 4; i < 12; i++)
			v = (v << 8) | f[i];
		*size = v;
		return 0;
	}
	int i = 0, digits = 0;
	while (i < 12 && f[i] == ' ')
		i++;
	for (; i < 12 && f[i] >= '0' && f[i] <= '7'; i++, digits++)
		v = (v << 3) | (uint64_t)(f[i] - '0');
	if (!digits || (i < 12 && f[i] != 0 && f[i] != ' '))
		return -1;
	*size = v;
	return 0;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	unsigned sum = 0;
	unsigned char field[12] = { 0 };
	memcpy(field, h + 148, 8);
	if (parse_size(field, &want) < 0)
		return false;
	for (int i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

/* Copies `size` bytes of the archive into the member's file, then skips its padding. */
static int extract_member(int fd, const char *path, const char *dst, struct ova_member *m)
{
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return ERR2(XVM_ERR_IMPORT_ERROR, dst, "cannot write", "cannot write %s: %s", dst, strerror(errno));
	gnutls_hash_hd_t h;
	int r = hash_init(&h);
	if (r < 0) {
		close(out);
		return r;
	}
	char *buf = malloc(CHUNK);
	uint64_t left = m->size + (BLOCK - m->size % BLOCK) % BLOCK, data = m->size;
	if (!buf)
		r = error_oom();
	while (r == 0 && left) {
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t n = read_full(fd, buf, want);
		if (n < 0) {
			r = ERR2(XVM_ERR_IMPORT_ERROR, path, "cannot read", "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if ((size_t)n < want) {
			char why[160];
			snprintf(why, sizeof(why), "the archive is truncated in member %s", m->name);
			r = bad_tar(path, why);
			break;
		}
		size_t keep = data < (uint64_t)n ? (size_t)data : (size_t)n;
		gnutls_hash(h, buf, keep);
		if (keep)
			r = write_all(out, dst, buf, keep);
		data -= keep;
		left -= (uint64_t)n;
	}
	free(buf);
	hash_end(h, m->sha256);
	if (close(out) < 0 && r == 0)
		r = ERR2(XVM_ERR_IMPORT_ERROR, dst, strerror(errno), "cannot write %s: %s", dst, strerror(errno));
	return r;
}

static int next_member(int fd, const char *path, const char *dir, struct ova_member **members, size_t *n,
		       bool *done)
{
	unsigned char h[BLOCK];
	ssize_t got = read_full(fd, h, BLOCK);
	if (got < 0)
		return ERR2(XVM_ERR_IMPORT_ERROR, path, "cannot read", "cannot read %s: %s", path, strerror(errno));
	if (got < BLOCK)
		return bad_tar(path, *n ? "the archive is truncated: it has no end marker"
				      : got ? "it is no tar archive: it is shorter than a header"
					    : "the file is empty");
	static const unsigned char zero[BLOCK];
	if (memcmp(h, zero, BLOCK) == 0) {
		*done = true;
		return 0;
	}
	if (!checksum_ok(h))
		return bad_tar(path, *n ? "a member header is damaged" : "it is no tar archive");
	struct ova_member m = { 0 };
	memcpy(m.name, h, 100);
	if (parse_size(h + 124, &m.size) < 0)
		return bad_tar(path, "a member has no valid size");
	/* GNU and pax extension headers and directories: only regular files matter. */
	if (h[156] != '0' && h[156] != 0) {
		uint64_t skip = m.size + (BLOCK - m.size % BLOCK) % BLOCK;
		return lseek(fd, (off_t)skip, SEEK_CUR) < 0 ? bad_tar(path, "a member cannot be skipped") : 0;
	}
	if (!m.name[0] || strchr(m.name, '/') || strcmp(m.name, ".") == 0 || strcmp(m.name, "..") == 0) {
		char why[160];
		snprintf(why, sizeof(why), "member '%s' is not a plain file name", m.name);
		return bad_tar(path, why);
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*members)[i].name, m.name) == 0)
			return bad_tar(path, "a member name appears twice");
	char *dst;
	if (asprintf(&dst, "%s/%s", dir, m.name) < 0)
		return error_oom();
	int r = extract_member(fd, path, dst, &m);
	free(dst);
	if (r < 0)
		return r;
	struct ova_member *grown = realloc(*members, (*n + 1) * sizeof(*grown));
	if (!grown)
		return error_oom();
	grown[(*n)++] = m;
	*members = grown;
	return 0;
}

int ova_tar_extract(const char *path, const char *dir, struct ova_member **ret, size_t *ret_n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ERR2(XVM_ERR_IMPORT_ERROR, path, "cannot read", "cannot read %s: %s", path, strerror(errno));
	struct ova_member *members = NULL;
	size_t n = 0;
	bool done = false;
	int r = 0;
	while (r == 0 && !done)
		r = next_member(fd, path, dir, &members, &n, &done);
	close(fd);
	if (r == 0 && n == 0)
		r = bad_tar(path, "the archive is empty");
	if (r < 0) {
		free(members);
		return r;
	}
	*ret = members;
	*ret_n = n;
	return 0;
}
