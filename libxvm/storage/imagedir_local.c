/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imagedir over a local directory: plain POSIX calls. ctx is the directory's path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/error_internal.h"
#include "storage/imagedir.h"

static char *join(const char *dir, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int local_list(void *ctx, char ***names, size_t *count)
{
	DIR *d = opendir(ctx);
	if (!d)
		return -errno;
	char **v = NULL;
	size_t n = 0;
	int r = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char **nv = realloc(v, (n + 1) * sizeof(*v));
		char *s = strdup(de->d_name);
		if (!nv || !s) {
			free(s);
			if (nv)
				v = nv;
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n++] = s;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*names = v;
	*count = n;
	return 0;
}

static int local_stat(void *ctx, const char *name, struct imagedir_stat *ret)
{
	char *p = join(ctx, name);
	if (!p)
		return -ENOMEM;
	struct stat st;
	int r = stat(p, &st) < 0 ? -errno : 0;
	free(p);
	if (r == 0)
		*ret = (struct imagedir_stat){ .size = (uint64_t)st.st_size,
					       .allocated = (uint64_t)st.st_blocks * 512,
					       .regular = S_ISREG(st.st_mode) };
	return r;
}

static ssize_t local_pread(void *ctx, const char *name, void *buf, size_t len, uint64_t off)
{
	char *p = join(ctx, name);
	if (!p)
		return -ENOMEM;
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(p);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, buf, len, (off_t)off);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

static int local_unlink(void *ctx, const char *name)
{
	char *p = join(ctx, name);
	if (!p)
		return -ENOMEM;
	int r = unlink(p) < 0 ? -errno : 0;
	free(p);
	return r;
}

/* Two names in the directory: fn(a, b) with errno as the result. */
static int two_names(void *ctx, const char *from, const char *to, int (*fn)(const char *, const char *))
{
	char *a = join(ctx, from), *b = join(ctx, to);
	int r = !a || !b ? -ENOMEM : fn(a, b) < 0 ? -errno : 0;
	free(a);
	free(b);
	return r;
}

static int local_rename(void *ctx, const char *from, const char *to)
{
	return two_names(ctx, from, to, rename);
}

static int local_link(void *ctx, const char *from, const char *to)
{
	return two_names(ctx, from, to, link);
}

static int local_space(void *ctx, struct sr_space *ret)
{
	struct statvfs v;
	if (statvfs(ctx, &v) < 0)
		return -errno;
	ret->physical_size = (uint64_t)v.f_blocks * v.f_frsize;
	ret->physical_utilisation = (uint64_t)(v.f_blocks - v.f_bavail) * v.f_frsize;
	return 0;
}

static void local_path(void *ctx, const char *name, char out[XVM_HC_PATH_MAX])
{
	snprintf(out, XVM_HC_PATH_MAX, "%s/%s", (const char *)ctx, name);
}

const struct imagedir_ops imagedir_local_ops = {
	.list = local_list,
	.stat = local_stat,
	.pread = local_pread,
	.unlink = local_unlink,
	.rename = local_rename,
	.link = local_link,
	.space = local_space,
	.path = local_path,
	.can_preallocate = true,
};

int imagedir_local_open(struct sr_handle *sr, const char *dir)
{
	if (!dir || dir[0] != '/')
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "location", dir ? dir : "",
			    "SR %s: location '%s' must be an absolute path", sr->uuid, dir ? dir : "");
	struct imagedir *d = calloc(1, sizeof(*d));
	char *root = strdup(dir);
	if (!d || !root) {
		free(d);
		free(root);
		return error_oom();
	}
	d->ops = &imagedir_local_ops;
	d->ctx = root;
	sr->root = root;
	sr->priv = d;
	return 0;
}

void imagedir_local_close(struct sr_handle *sr)
{
	free(sr->priv);
	free(sr->root);
	sr->priv = sr->root = NULL;
}
