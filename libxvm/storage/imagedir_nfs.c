/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imagedir over the SR's directory of an NFS export (EXPORT/<sr-uuid>),
 * through libnfs's synchronous calls: nothing is mounted on the host.
 * qemu-img and QEMU open the images themselves by nfs:// URL.
 *
 * One connection per SR handle, made by imagedir_nfs_connect before the
 * directory is used. Every call has a time-out and none is retried, so a
 * server that stops answering fails the operation instead of hanging it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include <nfsc/libnfs.h>

#include "core/error_internal.h"
#include "storage/imagedir.h"

#define NFS_TIMEOUT_MS 5000

struct nfs_dir {
	struct imagedir dir;       /* first: sr->priv */
	struct nfs_context *nfs;   /* NULL until connected */
	char *server, *export;
	char subdir[XVM_UUID_BUFLEN + 1];  /* "/<sr-uuid>", below the export's root */
	char *url;                         /* nfs://SERVER/EXPORT/<sr-uuid> */
};

static struct nfs_dir *nfs_dir_of(struct sr_handle *sr)
{
	return sr->priv;
}

static char *join(struct nfs_dir *d, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", d->subdir, name) < 0 ? NULL : p;
}

static int nfs_dir_list(void *ctx, char ***names, size_t *count)
{
	struct nfs_dir *d = ctx;
	struct nfsdir *dir;
	int r = nfs_opendir(d->nfs, d->subdir, &dir);
	if (r < 0)
		return r;
	char **v = NULL;
	size_t n = 0;
	for (struct nfsdirent *de; r == 0 && (de = nfs_readdir(d->nfs, dir));) {
		if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0)
			continue;
		char **nv = realloc(v, (n + 1) * sizeof(*v));
		if (nv)
			v = nv;
		if (!nv || !(v[n] = strdup(de->name)))
			r = -ENOMEM;
		else
			n++;
	}
	nfs_closedir(d->nfs, dir);
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

static int nfs_dir_stat(void *ctx, const char *name, struct imagedir_stat *ret)
{
	struct nfs_dir *d = ctx;
	char *p = join(d, name);
	if (!p)
		return -ENOMEM;
	struct nfs_stat_64 st;
	int r = nfs_stat64(d->nfs, p, &st);
	free(p);
	if (r == 0)
		*ret = (struct imagedir_stat){ .size = st.nfs_size,
					       .allocated = st.nfs_used,
					       .regular = S_ISREG(st.nfs_mode) };
	return r;
}

static ssize_t nfs_dir_pread(void *ctx, const char *name, void *buf, size_t len, uint64_t off)
{
	struct nfs_dir *d = ctx;
	char *p = join(d, name);
	if (!p)
		return -ENOMEM;
	struct nfsfh *fh;
	int r = nfs_open(d->nfs, p, O_RDONLY, &fh);
	free(p);
	if (r < 0)
		return r;
	r = nfs_pread(d->nfs, fh, off, len, buf);
	nfs_close(d->nfs, fh);
	return r;
}

static int nfs_dir_unlink(void *ctx, const char *name)
{
	struct nfs_dir *d = ctx;
	char *p = join(d, name);
	if (!p)
		return -ENOMEM;
	int r = nfs_unlink(d->nfs, p);
	free(p);
	return r;
}

/* Two names in the directory: fn(a, b). */
static int two_names(struct nfs_dir *d, const char *from, const char *to,
		     int (*fn)(struct nfs_context *, const char *, const char *))
{
	char *a = join(d, from), *b = join(d, to);
	int r = !a || !b ? -ENOMEM : fn(d->nfs, a, b);
	free(a);
	free(b);
	return r;
}

static int nfs_dir_rename(void *ctx, const char *from, const char *to)
{
	return two_names(ctx, from, to, nfs_rename);
}

static int nfs_dir_link(void *ctx, const char *from, const char *to)
{
	return two_names(ctx, from, to, nfs_link);
}

static int nfs_dir_space(void *ctx, struct sr_space *ret)
{
	struct nfs_dir *d = ctx;
	struct nfs_statvfs_64 v;
	int r = nfs_statvfs64(d->nfs, d->subdir, &v);
	if (r < 0)
		return r;
	ret->physical_size = v.f_blocks * v.f_frsize;
	ret->physical_utilisation = (v.f_blocks - v.f_bavail) * v.f_frsize;
	return 0;
}

static void nfs_dir_path(void *ctx, const char *name, char out[XVM_HC_PATH_MAX])
{
	struct nfs_dir *d = ctx;
	snprintf(out, XVM_HC_PATH_MAX, "%s/%s", d->url, name);
}

const struct imagedir_ops imagedir_nfs_ops = {
	.list = nfs_dir_list,
	.stat = nfs_dir_stat,
	.pread = nfs_dir_pread,
	.unlink = nfs_dir_unlink,
	.rename = nfs_dir_rename,
	.link = nfs_dir_link,
	.space = nfs_dir_space,
	.path = nfs_dir_path,
	/* QEMU's nfs driver creates files by size alone. */
	.can_preallocate = false,
	.backing_by_path = true,
};

/* A path in a URL: what is not unreserved is %-escaped. */
static void url_path(char *out, size_t size, const char *path)
{
	static const char keep[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._~-";
	size_t k = 0;
	for (; *path && k + 4 < size; path++) {
		if (strchr(keep, *path))
			out[k++] = *path;
		else
			k += (size_t)snprintf(out + k, size - k, "%%%02X", (unsigned char)*path);
	}
	out[k] = 0;
}

int imagedir_nfs_open(struct sr_handle *sr, const char *server, const char *export)
{
	struct nfs_dir *d = calloc(1, sizeof(*d));
	if (!d)
		return error_oom();
	d->dir.ops = &imagedir_nfs_ops;
	d->dir.ctx = d;
	/* Each operation on the export connects first: a server that does not
	 * answer is reported as such, within the time-out. That holds for what
	 * qemu-img and QEMU will open too, as their libnfs has no time-out. */
	d->dir.ready = imagedir_nfs_connect;
	d->server = strdup(server);
	d->export = strdup(export);
	snprintf(d->subdir, sizeof(d->subdir), "/%s", sr->uuid);
	char path[XVM_HC_PATH_MAX];
	url_path(path, sizeof(path), strcmp(export, "/") == 0 ? "" : export);
	if (asprintf(&d->url, "nfs://%s%s%s", server, path, d->subdir) < 0)
		d->url = NULL;
	sr->priv = d;
	sr->root = d->url ? strdup(d->url) : NULL;
	if (!d->server || !d->export || !sr->root) {
		imagedir_nfs_close(sr);
		return error_oom();
	}
	return 0;
}

void imagedir_nfs_close(struct sr_handle *sr)
{
	struct nfs_dir *d = nfs_dir_of(sr);
	if (d) {
		if (d->nfs)
			nfs_destroy_context(d->nfs);
		free(d->server);
		free(d->export);
		free(d->url);
		free(d);
	}
	free(sr->root);
	sr->priv = sr->root = NULL;
}

static int unreachable(struct sr_handle *sr, const char *why)
{
	struct nfs_dir *d = nfs_dir_of(sr);
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "mount", why, "SR %s: cannot reach the NFS export %s:%s: %s", sr->uuid,
		    d->server, d->export, why);
}

struct mount_wait {
	bool done;
	int status;
	char why[256];
};

static void mount_done(int status, struct nfs_context *nfs, void *data, void *ctx)
{
	(void)nfs;
	struct mount_wait *w = ctx;
	w->done = true;
	w->status = status;
	if (status < 0)
		snprintf(w->why, sizeof(w->why), "%s", data ? (const char *)data : strerror(-status));
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Connects and mounts. libnfs's synchronous nfs_mount says no more than
 * "nfs_service failed" when the server refuses the connection, so this
 * runs the asynchronous one and keeps the reason; the whole mount gets
 * one time-out too, whatever number of calls it takes (portmapper, mount
 * service, NFS service). w must outlive the context: destroying it
 * may still call mount_done.
 */
static int mount_export(struct nfs_context *nfs, const char *server, const char *export, struct mount_wait *w,
			char *why, size_t size)
{
	if (nfs_mount_async(nfs, server, export, mount_done, w) < 0) {
		snprintf(why, size, "%s", nfs_get_error(nfs));
		return -1;
	}
	for (int64_t deadline = now_ms() + NFS_TIMEOUT_MS; !w->done;) {
		if (now_ms() > deadline) {
			snprintf(why, size, "no answer within %d seconds", NFS_TIMEOUT_MS / 1000);
			return -1;
		}
		struct pollfd p = { .fd = nfs_get_fd(nfs), .events = (short)nfs_which_events(nfs) };
		if (poll(&p, 1, 100) < 0 && errno != EINTR) {
			snprintf(why, size, "poll: %s", strerror(errno));
			return -1;
		}
		int err = 0;
		socklen_t len = sizeof(err);
		if ((p.revents & (POLLERR | POLLHUP)) && getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
			snprintf(why, size, "%s", strerror(err));
			return -1;
		}
		if (nfs_service(nfs, p.revents) < 0) {
			snprintf(why, size, "%s", w->done ? w->why : nfs_get_error(nfs));
			return -1;
		}
	}
	if (w->status < 0)
		snprintf(why, size, "%s", w->why);
	return w->status < 0 ? -1 : 0;
}

int imagedir_nfs_connect(struct sr_handle *sr)
{
	struct nfs_dir *d = nfs_dir_of(sr);
	if (d->nfs)
		return 0;
	struct nfs_context *nfs = nfs_init_context();
	if (!nfs)
		return unreachable(sr, "cannot make an NFS client context");
	nfs_set_timeout(nfs, NFS_TIMEOUT_MS);
	nfs_set_autoreconnect(nfs, 0);
	/* Other clients (qemu-img, other hosts) change the directory under us. */
	nfs_set_dircache(nfs, 0);
	struct mount_wait w = { 0 };
	char why[256];
	if (mount_export(nfs, d->server, d->export, &w, why, sizeof(why)) < 0) {
		int r = unreachable(sr, why);
		nfs_destroy_context(nfs);
		return r;
	}
	d->nfs = nfs;
	return 0;
}

static int dir_failure(struct sr_handle *sr, const char *what, const char *why)
{
	struct nfs_dir *d = nfs_dir_of(sr);
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, why, "SR %s: cannot %s %s on the NFS export %s:%s: %s", sr->uuid,
		    what, d->subdir + 1, d->server, d->export, why);
}

int imagedir_nfs_check_dir(struct sr_handle *sr)
{
	struct nfs_dir *d = nfs_dir_of(sr);
	struct nfs_stat_64 st;
	if (nfs_stat64(d->nfs, d->subdir, &st) < 0)
		return dir_failure(sr, "find", nfs_get_error(d->nfs));
	return S_ISDIR(st.nfs_mode) ? 0 : dir_failure(sr, "use", "not a directory");
}

int imagedir_nfs_make_dir(struct sr_handle *sr)
{
	struct nfs_dir *d = nfs_dir_of(sr);
	return nfs_mkdir(d->nfs, d->subdir) < 0 ? dir_failure(sr, "create", nfs_get_error(d->nfs)) : 0;
}

void imagedir_nfs_remove_dir(struct sr_handle *sr)
{
	struct nfs_dir *d = nfs_dir_of(sr);
	nfs_rmdir(d->nfs, d->subdir);
}
