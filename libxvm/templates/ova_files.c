/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "templates/ova_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error_internal.h"

#define CHUNK (1u << 20)

int ova_staging_make(const char *base, char **ret)
{
	char *dir;
	if (asprintf(&dir, "%s.xvm-XXXXXX", base) < 0)
		return error_oom();
	if (!mkdtemp(dir)) {
		int err = errno;
		int r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "make a staging directory", dir, "cannot make %s: %s", dir,
			     strerror(err));
		free(dir);
		return r;
	}
	*ret = dir;
	return 0;
}

void ova_staging_remove(char *dir)
{
	if (!dir)
		return;
	DIR *d = opendir(dir);
	if (d) {
		for (struct dirent *de; (de = readdir(d));)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

static int gz_fail(const char *what, const char *path, const char *why)
{
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, path, "cannot %s %s: %s", what, path, why);
}

int ova_gzip(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return gz_fail("read", src, strerror(errno));
	gzFile out = gzopen(dst, "wb6");
	char *buf = malloc(CHUNK);
	int r = 0;
	if (!out || !buf)
		r = out ? error_oom() : gz_fail("write", dst, strerror(errno));
	for (ssize_t n; r == 0 && (n = read(in, buf, CHUNK)) != 0;) {
		if (n < 0)
			r = errno == EINTR ? 0 : gz_fail("read", src, strerror(errno));
		else if (gzwrite(out, buf, (unsigned)n) != (int)n)
			r = gz_fail("write", dst, errno ? strerror(errno) : "compression failed");
	}
	errno = 0;
	/* gzclose flushes: a full disk shows here too. */
	if (out && gzclose(out) != Z_OK && r == 0)
		r = gz_fail("write", dst, errno ? strerror(errno) : "compression failed");
	free(buf);
	close(in);
	return r;
}

int ova_gunzip(const char *src, const char *dst)
{
	gzFile in = gzopen(src, "rb");
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char *buf = malloc(CHUNK);
	int r = 0;
	if (!in)
		r = ERR2(XVM_ERR_IMPORT_ERROR, src, "cannot read", "cannot read %s", src);
	else if (out < 0 || !buf)
		r = buf ? gz_fail("write", dst, strerror(errno)) : error_oom();
	for (int n; r == 0 && (n = gzread(in, buf, CHUNK)) != 0;) {
		int err;
		const char *msg = n < 0 ? gzerror(in, &err) : NULL;
		if (n < 0)
			r = ERR2(XVM_ERR_IMPORT_ERROR, src, msg, "%s is no valid gzip file: %s", src, msg);
		else if (write(out, buf, (size_t)n) != n)
			r = gz_fail("write", dst, strerror(errno));
	}
	/* A gzip stream that stops early reads as a short file, not an error: check its end. */
	if (r == 0 && !gzeof(in))
		r = ERR2(XVM_ERR_IMPORT_ERROR, src, "truncated", "%s is a truncated gzip file", src);
	if (in)
		gzclose(in);
	if (out >= 0 && close(out) < 0 && r == 0)
		r = gz_fail("write", dst, strerror(errno));
	free(buf);
	return r;
}

int ova_read_small(const char *path, size_t max, char **ret, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ERR2(XVM_ERR_IMPORT_ERROR, path, "cannot read", "cannot read %s: %s", path, strerror(errno));
	struct stat st;
	char *buf = NULL;
	int r = 0;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > max)
		r = ERR2(XVM_ERR_IMPORT_ERROR, path, "too large", "%s is too large (at most %zu bytes)", path, max);
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		r = error_oom();
	else if (pread(fd, buf, (size_t)st.st_size, 0) != (ssize_t)st.st_size)
		r = ERR2(XVM_ERR_IMPORT_ERROR, path, "cannot read", "cannot read %s", path);
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[st.st_size] = 0;
	*ret = buf;
	*len = (size_t)st.st_size;
	return 0;
}

static void on_progress(double fraction, void *data)
{
	const struct ova_progress *p = data;
	inflight_set_progress(p->mark, p->base + p->span * fraction);
}

void ova_progress_init(struct ova_progress *p, const struct inflight *mark, double base, double span)
{
	*p = (struct ova_progress){ { on_progress, p }, mark, base, span };
}
