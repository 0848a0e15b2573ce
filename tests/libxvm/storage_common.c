/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "storage_common.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *local_sr;
char local_dir[4200];

void st_setup(void)
{
	t_lifecycle_setup();
	struct json_object *srs = t_all_refs(conn, "SR");
	for (size_t i = 0; i < t_len(srs) && !local_sr; i++) {
		const char *sr = json_object_get_string(json_object_array_get_idx(srs, i));
		if (strcmp(t_gets(conn, "SR", sr, "name_label"), "Local storage") == 0)
			local_sr = strdup(sr);
	}
	json_object_put(srs);
	cr_assert_not_null(local_sr, "no Local storage SR");
	snprintf(local_dir, sizeof(local_dir), "%s/sr/local", dir);
	cr_assert_str_eq(st_sr_dir(conn, local_sr), local_dir);
}

/* The tmpfs a test mounted: unmounted at the end even when the test failed,
 * so that the state dir can go. */
static char mounted[4200];

void st_teardown(void)
{
	if (*mounted)
		umount2(mounted, MNT_DETACH);
	*mounted = 0;
	free(local_sr);
	local_sr = NULL;
	t_lifecycle_teardown();
}

int st_sh(char **out, const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	char *full;
	cr_assert_geq(asprintf(&full, "(%s) 2>&1", cmd), 0);
	free(cmd);
	FILE *p = popen(full, "r");
	cr_assert_not_null(p, "popen %s: %s", full, strerror(errno));
	char *buf = t_read_stream(p, NULL);
	int status = pclose(p);
	free(full);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *st_vdi(xvm_conn *c, const char *sr, const char *name, int64_t size, const char *format)
{
	struct json_object *rec = json_object_new_object(), *args = json_object_new_array(), *res = NULL;
	json_object_object_add(rec, "SR", json_object_new_string(sr));
	json_object_object_add(rec, "name_label", json_object_new_string(name));
	json_object_object_add(rec, "virtual_size", json_object_new_int64(size));
	if (format) {
		struct json_object *sm = json_object_new_object();
		json_object_object_add(sm, "type", json_object_new_string(format));
		json_object_object_add(rec, "sm_config", sm);
	}
	json_object_array_add(args, rec);
	int r = xvm_call(c, "VDI.create", args, &res);
	json_object_put(args);
	cr_assert_eq(r, 0, "VDI.create %s: %d %s: %s", name, r, t_errname(), t_errmsg());
	char *ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return ref;
}

const char *st_sr_dir(xvm_conn *c, const char *sr)
{
	static _Thread_local char buf[4200];
	struct json_object *pbds = t_get(c, "SR", sr, "PBDs");
	cr_assert_eq(t_len(pbds), 1, "SR %s has %zu PBDs", sr, t_len(pbds));
	struct json_object *dc = t_get(c, "PBD", t_first(pbds), "device_config"), *loc;
	cr_assert(json_object_object_get_ex(dc, "location", &loc), "no device_config:location");
	snprintf(buf, sizeof(buf), "%s", json_object_get_string(loc));
	json_object_put(dc);
	json_object_put(pbds);
	return buf;
}

const char *st_vdi_file(xvm_conn *c, const char *vdi)
{
	static _Thread_local char ring[8][4500];
	static _Thread_local unsigned next;
	char *p = ring[next++ % 8];
	const char *sr = t_gets(c, "VDI", vdi, "SR");
	snprintf(p, sizeof(ring[0]), "%s/%s", st_sr_dir(c, sr), t_gets(c, "VDI", vdi, "location"));
	return p;
}

char *st_vdi_where(xvm_conn *c, const char *sr, const char *field, const char *value)
{
	struct json_object *vdis = t_get(c, "SR", sr, "VDIs");
	char *found = NULL;
	for (size_t i = 0; i < t_len(vdis) && !found; i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(vdis, i));
		if (strcmp(t_gets(c, "VDI", v, field), value) == 0)
			found = strdup(v);
	}
	json_object_put(vdis);
	return found;
}

char *st_file_sr(xvm_conn *c, const char *location)
{
	struct json_object *dc = json_object_new_object();
	json_object_object_add(dc, "location", json_object_new_string(location));
	char *ref = NULL;
	T_OK(xvm_sr_create(c, dc, "other", "file", "", false, NULL, &ref));
	json_object_put(dc);
	return ref;
}

char *st_iso(xvm_conn *c, const char *name)
{
	char lib[4200];
	snprintf(lib, sizeof(lib), "%s/isos", dir);
	bool first = !st_exists(lib);
	ST_SH("mkdir -p '%s/.content' && genisoimage -quiet -V DISC -o '%s/%s' '%s/.content'", lib, lib, name, lib);
	char *sr = NULL;
	if (first) {
		struct json_object *dc = json_object_new_object();
		json_object_object_add(dc, "location", json_object_new_string(lib));
		T_OK(xvm_sr_create(c, dc, "ISOs", "iso", "", false, NULL, &sr));
		json_object_put(dc);
	} else {
		struct json_object *refs = NULL;
		T_OK(xvm_object_get_by_name_label(c, "SR", "ISOs", &refs));
		sr = strdup(json_object_get_string(json_object_array_get_idx(refs, 0)));
		json_object_put(refs);
	}
	/* The library shows the new image at the next read. */
	char *vdi = st_vdi_where(c, sr, "name_label", name);
	cr_assert_not_null(vdi, "the ISO library does not show %s", name);
	free(sr);
	return vdi;
}

bool st_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

unsigned st_count(const char *d, const char *prefix, const char *suffix)
{
	DIR *dd = opendir(d);
	cr_assert_not_null(dd, "opendir %s: %s", d, strerror(errno));
	unsigned n = 0;
	for (struct dirent *de; (de = readdir(dd));) {
		size_t len = strlen(de->d_name), sl = strlen(suffix);
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0 && len >= sl &&
		    strcmp(de->d_name + len - sl, suffix) == 0)
			n++;
	}
	closedir(dd);
	return n;
}

int64_t st_allocated(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return (int64_t)st.st_blocks * 512;
}

void st_write(const char *path, const char *format, int pattern, const char *off, const char *len)
{
	ST_SH("qemu-io -f %s -c 'write -P 0x%02x %s %s' '%s'", format, pattern, off, len, path);
}

bool st_reads(const char *path, const char *format, int pattern, const char *off, const char *len)
{
	char *out = NULL;
	int s = st_sh(&out, "qemu-io -f %s -c 'read -P 0x%02x %s %s' '%s'", format, pattern, off, len, path);
	bool ok = s == 0 && strstr(out, "read ") && !strstr(out, "Pattern verification failed");
	free(out);
	return ok;
}

struct json_object *st_info(const char *path, const char *format)
{
	char *out = NULL;
	int s = format ? st_sh(&out, "qemu-img info --output=json -f %s '%s'", format, path)
		       : st_sh(&out, "qemu-img info --output=json '%s'", path);
	cr_assert_eq(s, 0, "qemu-img info %s: %s", path, out);
	struct json_object *info = json_tokener_parse(out);
	cr_assert_not_null(info, "qemu-img info %s: %s", path, out);
	free(out);
	return info;
}

const char *st_backing(const char *path)
{
	static _Thread_local char ring[8][512];
	static _Thread_local unsigned next;
	char *p = ring[next++ % 8];
	struct json_object *info = st_info(path, "qcow2"), *b;
	snprintf(p, sizeof(ring[0]), "%s",
		 json_object_object_get_ex(info, "backing-filename", &b) ? json_object_get_string(b) : "");
	json_object_put(info);
	return p;
}

void st_mount_tmpfs(const char *d, const char *size)
{
	if (geteuid() != 0)
		cr_skip_test("mounting a tmpfs needs root");
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "private /: %s", strerror(errno));
	cr_assert_eq(mkdir(d, 0755) == 0 || errno == EEXIST, 1, "mkdir %s: %s", d, strerror(errno));
	char opts[64];
	snprintf(opts, sizeof(opts), "size=%s", size);
	cr_assert_eq(mount("tmpfs", d, "tmpfs", 0, opts), 0, "mount tmpfs on %s: %s", d, strerror(errno));
	snprintf(mounted, sizeof(mounted), "%s", d);
}

void st_umount(const char *d)
{
	cr_assert_eq(umount(d), 0, "umount %s: %s", d, strerror(errno));
	*mounted = 0;
}

static _Thread_local char tmpfs_dir[4200], tmpfs_sr_dir[4300];

char *st_tmpfs_sr(const char *size, const char **location)
{
	snprintf(tmpfs_dir, sizeof(tmpfs_dir), "%s/fs", dir);
	snprintf(tmpfs_sr_dir, sizeof(tmpfs_sr_dir), "%s/sr", tmpfs_dir);
	st_mount_tmpfs(tmpfs_dir, size);
	*location = tmpfs_sr_dir;
	return st_file_sr(conn, tmpfs_sr_dir);
}

void st_tmpfs_sr_end(char *sr)
{
	T_OK(xvm_sr_destroy(conn, sr));
	free(sr);
	st_umount(tmpfs_dir);
}

/* A connection whose hypervisor fails the first `op` (XVM_HC_FAULT). */
xvm_conn *st_faulty(const char *op)
{
	char spec[64];
	snprintf(spec, sizeof(spec), "%s:1:EIO", op);
	setenv("XVM_HC_FAULT", spec, 1);
	xvm_conn *c = t_connect(dir);
	unsetenv("XVM_HC_FAULT");
	return c;
}
