/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-domain runtime dir, STATE_DIR/run/qemu/DOMID/:
 *
 *   dom.json       the domain record: {"format": "xvm-qemu-domain",
 *                  "version": 1, "domid", "start_time", "memory_target_kib",
 *                  "accel", "vnc_port", "ws_port", "config": {...},
 *                  "disk_nodes": [{"position", "top", "hotplugged"}]} (struct qdisk)
 *   lock           flock'ed by whoever changes the domain (create, destroy, ...)
 *   qmp.sock       QMP for commands (a connection per call)
 *   qmp-mon.sock   QMP held by the monitor helper, for events
 *   console.sock   serial console; serial.log is the current boot's output
 *   qemu.log       QEMU's (and the monitor's) stderr
 *   qemu.pid, monitor.pid   "PID STARTTIME": the start time defeats pid reuse
 *   events.jsonl   every QMP event, one JSON object a line (bounded)
 *   stop           "REASON SEQ": the guest stopped by itself (events.c)
 *   exit           how QEMU ended, written by the monitor
 *   destroying     present while a destroy runs: its stop is not an event
 *   OVMF_VARS.fd   the domain's UEFI variables
 *
 * Domain ids come from a counter that is never reset while the state dir
 * lives; an admission lock makes "one domain per uuid" hold across processes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"

#define DOM_FORMAT "xvm-qemu-domain"
#define DOM_VERSION 1
#define LOCK_WAIT_MS 60000

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	int r;

	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				goto fail;
			*p = '/';
		}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	r = -errno;
	xvm_hv_set_error("cannot create %s: %s", buf, strerror(-r));
	return r;
}

int qemu_rundir_init(struct qemu *qm)
{
	char p[PATH_MAX];
	int r;

	snprintf(qm->run_dir, sizeof qm->run_dir, "%s/run/qemu", qm->state_dir);
	snprintf(qm->seq_path, sizeof qm->seq_path, "%s/event-seq", qm->run_dir);
	snprintf(p, sizeof p, "%s/by-uuid", qm->run_dir);
	if ((r = mkdir_p(p)) < 0)
		return r;
	return qemu_seq_init(qm->seq_path);
}

const char *qemu_path(char *buf, const struct qdom *d, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", d->dir, name);
	return buf;
}

struct qdom *qemu_dom_new(void)
{
	struct qdom *d = calloc(1, sizeof *d);

	if (!d)
		xvm_hv_set_error("out of memory");
	else
		d->lock_fd = -1;
	for (int i = 0; d && i < XVM_HC_MAX_NICS; i++)
		d->tap_fds[i] = -1;
	return d;
}

void qemu_dom_free(struct qdom *d)
{
	if (!d)
		return;
	qemu_dom_unlock(d);
	free(d);
}

static int global_lock(struct qemu *qm)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s/lock", qm->run_dir);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int r = -errno;
		xvm_hv_set_error("cannot lock %s: %s", p, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

static int next_domid(struct qemu *qm, uint32_t *ret)
{
	char p[PATH_MAX], buf[32] = "";
	unsigned long v = 1;
	ssize_t n;
	int fd, r = 0;

	snprintf(p, sizeof p, "%s/next-domid", qm->run_dir);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		xvm_hv_set_error("cannot open %s: %s", p, strerror(-r));
		return r;
	}
	n = pread(fd, buf, sizeof buf - 1, 0);
	if (n > 0 && (v = strtoul(buf, NULL, 10)) == 0)
		v = 1;
	if (v >= UINT32_MAX) {
		xvm_hv_set_error("the qemu backend has used up its domids");
		close(fd);
		return -ENOSPC;
	}
	n = snprintf(buf, sizeof buf, "%lu\n", v + 1);
	if (pwrite(fd, buf, n, 0) != n || ftruncate(fd, n) < 0 || fdatasync(fd) < 0) {
		r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot write %s: %s", p, strerror(-r));
	}
	close(fd);
	*ret = (uint32_t)v;
	return r;
}

static int take_lock(struct qdom *d, bool wait)
{
	char p[PATH_MAX];
	int fd = open(qemu_path(p, d, "lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		int r = -errno;
		if (r == -ENOENT) {
			xvm_hv_set_error("domain %u does not exist", d->domid);
			return -ESRCH;
		}
		xvm_hv_set_error("cannot open %s: %s", p, strerror(-r));
		return r;
	}
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		if (errno != EWOULDBLOCK || !wait || waited >= LOCK_WAIT_MS) {
			int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			xvm_hv_set_error("domain %u is busy with another operation", d->domid);
			close(fd);
			return r;
		}
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	d->lock_fd = fd;
	return 0;
}

int qemu_dom_lock(struct qdom *d)
{
	return take_lock(d, true);
}

void qemu_dom_unlock(struct qdom *d)
{
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->lock_fd = -1;
}

bool qemu_dom_locked_elsewhere(const struct qdom *d)
{
	char p[PATH_MAX];
	int fd = open(qemu_path(p, d, "lock"), O_RDONLY | O_CLOEXEC);
	bool held;

	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* The domid the uuid index names, if its domain still has a rundir. */
static int uuid_owner(struct qemu *qm, const char *link, uint32_t *domid)
{
	char target[32], p[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof target - 1);

	if (n <= 0)
		return -ENOENT;
	target[n] = '\0';
	*domid = (uint32_t)strtoul(target, NULL, 10);
	snprintf(p, sizeof p, "%s/%u", qm->run_dir, *domid);
	if (access(p, F_OK) < 0) {
		unlink(link); /* left by a process that died mid-create */
		return -ENOENT;
	}
	return 0;
}

int qemu_admit(struct qemu *qm, struct qdom *d)
{
	char link[PATH_MAX], target[32];
	uint32_t other;
	int g = global_lock(qm), r;

	if (g < 0)
		return g;
	snprintf(link, sizeof link, "%s/by-uuid/%s", qm->run_dir, d->cfg.uuid);
	if (uuid_owner(qm, link, &other) == 0) {
		xvm_hv_set_error("domain %u already has uuid %s", other, d->cfg.uuid);
		r = -EEXIST;
		goto out;
	}
	do {
		if ((r = next_domid(qm, &d->domid)) < 0)
			goto out;
		snprintf(d->dir, sizeof d->dir, "%s/%u", qm->run_dir, d->domid);
	} while (mkdir(d->dir, 0700) < 0 && errno == EEXIST);
	if (access(d->dir, F_OK) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot create %s: %s", d->dir, strerror(-r));
		goto out;
	}
	if ((r = take_lock(d, false)) < 0)
		goto out;
	snprintf(target, sizeof target, "%u", d->domid);
	if (symlink(target, link) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot create %s: %s", link, strerror(-r));
		qemu_dom_unlock(d);
		rmdir(d->dir);
		remove(link);
	}
out:
	close(g);
	return r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void qemu_forget(struct qemu *qm, struct qdom *d)
{
	char link[PATH_MAX];
	uint32_t owner;
	int g = global_lock(qm);

	snprintf(link, sizeof link, "%s/by-uuid/%s", qm->run_dir, d->cfg.uuid);
	/* Its QEMU is gone, and with it the taps: their bridges may be empty now. */
	qemu_bridges_release(qm, d->cfg.nics, d->cfg.nnics);
	nftw(d->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	/* uuid_owner() drops the link now that the dir is gone, but only ours. */
	uuid_owner(qm, link, &owner);
	if (g >= 0)
		close(g);
}

static struct json_object *read_json(const char *path, int *err)
{
	struct json_object *o;
	char *text;
	FILE *f = fopen(path, "re");
	long n;

	if (!f) {
		*err = -errno;
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > (1 << 20) || fseek(f, 0, SEEK_SET) < 0 ||
	    !(text = calloc(1, n + 1))) {
		fclose(f);
		*err = -EINVAL;
		return NULL;
	}
	if (fread(text, 1, n, f) != (size_t)n)
		n = 0;
	fclose(f);
	o = n ? json_tokener_parse(text) : NULL;
	free(text);
	*err = o ? 0 : -EINVAL;
	return o;
}

static struct json_object *disk_nodes_to_json(const struct qdom *d)
{
	struct json_object *a = json_object_new_array();

	for (uint32_t i = 0; i < d->cfg.ndisks && i < XVM_HC_MAX_DISKS; i++) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "position", json_object_new_int64(d->cfg.disks[i].position));
		json_object_object_add(j, "top", json_object_new_int64(d->disks[i].top));
		json_object_object_add(j, "hotplugged", json_object_new_boolean(d->disks[i].hotplugged));
		json_object_array_add(a, j);
	}
	return a;
}

static void disk_nodes_from_json(struct json_object *a, struct qdom *d)
{
	for (size_t k = 0; k < json_object_array_length(a); k++) {
		struct json_object *j = json_object_array_get_idx(a, k), *pos, *top, *hot;
		if (!json_object_object_get_ex(j, "position", &pos) || !json_object_object_get_ex(j, "top", &top) ||
		    !json_object_object_get_ex(j, "hotplugged", &hot))
			continue;
		for (uint32_t i = 0; i < d->cfg.ndisks; i++)
			if (d->cfg.disks[i].position == (uint32_t)json_object_get_int64(pos)) {
				d->disks[i].top = (uint32_t)json_object_get_int64(top);
				d->disks[i].hotplugged = json_object_get_boolean(hot);
			}
	}
}

static int record_from_json(struct json_object *o, struct qdom *d)
{
	struct json_object *v;
	int64_t version = 0;

	if (json_object_object_get_ex(o, "version", &v))
		version = json_object_get_int64(v);
	if (!json_object_object_get_ex(o, "format", &v) || strcmp(json_object_get_string(v), DOM_FORMAT)) {
		xvm_hv_set_error("%s/dom.json is not an xvm qemu domain record", d->dir);
		return -EINVAL;
	}
	if (version != DOM_VERSION) {
		xvm_hv_set_error("%s/dom.json has version %lld; this build reads version %d", d->dir,
				 (long long)version, DOM_VERSION);
		return -EINVAL;
	}
	if (!json_object_object_get_ex(o, "config", &v) || qemu_config_from_json(v, &d->cfg) < 0)
		return -EINVAL;
	memset(d->disks, 0, sizeof d->disks);
	/* Records written before disks had node levels have none: every disk is at level 0. */
	if (json_object_object_get_ex(o, "disk_nodes", &v) && json_object_is_type(v, json_type_array))
		disk_nodes_from_json(v, d);
#define INT_FIELD(name, dst) \
	if (json_object_object_get_ex(o, name, &v)) dst = json_object_get_int64(v)
	INT_FIELD("start_time", d->start_time);
	INT_FIELD("memory_target_kib", d->memory_target_kib);
	INT_FIELD("vnc_port", d->vnc_port);
	INT_FIELD("ws_port", d->ws_port);
#undef INT_FIELD
	d->accel = json_object_object_get_ex(o, "accel", &v) && !strcmp(json_object_get_string(v), "kvm")
			   ? XVM_HC_ACCEL_KVM : XVM_HC_ACCEL_TCG;
	return 0;
}

int qemu_dom_load(struct qemu *qm, uint32_t domid, struct qdom *d)
{
	struct json_object *o;
	char p[PATH_MAX];
	int r;

	d->domid = domid;
	snprintf(d->dir, sizeof d->dir, "%s/%u", qm->run_dir, domid);
	o = read_json(qemu_path(p, d, "dom.json"), &r);
	if (!o && r == -ENOENT) {
		xvm_hv_set_error("domain %u does not exist", domid);
		return -ESRCH;
	}
	if (!o) {
		xvm_hv_set_error("cannot read %s: %s", p, strerror(-r));
		return r;
	}
	r = record_from_json(o, d);
	json_object_put(o);
	return r;
}

int qemu_dom_store(const struct qdom *d)
{
	struct json_object *o = json_object_new_object();
	char p[PATH_MAX], tmp[PATH_MAX];
	const char *text;
	FILE *f;
	int r = 0;

	json_object_object_add(o, "format", json_object_new_string(DOM_FORMAT));
	json_object_object_add(o, "version", json_object_new_int(DOM_VERSION));
	json_object_object_add(o, "domid", json_object_new_int64(d->domid));
	json_object_object_add(o, "start_time", json_object_new_int64((int64_t)d->start_time));
	json_object_object_add(o, "memory_target_kib", json_object_new_int64((int64_t)d->memory_target_kib));
	json_object_object_add(o, "accel", json_object_new_string(d->accel == XVM_HC_ACCEL_KVM ? "kvm" : "tcg"));
	json_object_object_add(o, "vnc_port", json_object_new_int(d->vnc_port));
	json_object_object_add(o, "ws_port", json_object_new_int(d->ws_port));
	json_object_object_add(o, "config", qemu_config_to_json(&d->cfg));
	json_object_object_add(o, "disk_nodes", disk_nodes_to_json(d));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	qemu_path(p, d, "dom.json");
	qemu_path(tmp, d, "dom.json.tmp");
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fflush(f) < 0 || fsync(fileno(f)) < 0)
		r = errno ? -errno : -EIO;
	if (f && fclose(f) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, p) < 0)
		r = -errno;
	if (r) {
		xvm_hv_set_error("cannot write %s: %s", p, strerror(-r));
		unlink(tmp);
	}
	json_object_put(o);
	return r;
}

int qemu_dom_find_uuid(struct qemu *qm, const char *uuid, uint32_t *domid)
{
	char link[PATH_MAX], lower[XVM_UUID_STRLEN + 1];
	size_t i;

	for (i = 0; i < XVM_UUID_STRLEN && uuid[i]; i++)
		lower[i] = (uuid[i] >= 'A' && uuid[i] <= 'F') ? uuid[i] - 'A' + 'a' : uuid[i];
	lower[i] = '\0';
	if (i != XVM_UUID_STRLEN || strchr(lower, '/')) {
		xvm_hv_set_error("no domain has uuid %.36s", uuid);
		return -ESRCH;
	}
	snprintf(link, sizeof link, "%s/by-uuid/%s", qm->run_dir, lower);
	if (uuid_owner(qm, link, domid) < 0) {
		xvm_hv_set_error("no domain has uuid %.36s", uuid);
		return -ESRCH;
	}
	return 0;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

int qemu_dom_list(struct qemu *qm, uint32_t **ret, uint32_t *count)
{
	DIR *dir = opendir(qm->run_dir);
	uint32_t *ids = NULL, n = 0, cap = 0;
	struct dirent *e;

	if (!dir) {
		int r = -errno;
		xvm_hv_set_error("cannot read %s: %s", qm->run_dir, strerror(-r));
		return r;
	}
	while ((e = readdir(dir))) {
		char *end;
		unsigned long id = strtoul(e->d_name, &end, 10);
		if (*end || !id || id > UINT32_MAX || e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (n == cap) {
			uint32_t *grown = realloc(ids, (cap = cap ? 2 * cap : 16) * sizeof *ids);
			if (!grown) {
				free(ids);
				closedir(dir);
				xvm_hv_set_error("out of memory");
				return -ENOMEM;
			}
			ids = grown;
		}
		ids[n++] = (uint32_t)id;
	}
	closedir(dir);
	if (n)
		qsort(ids, n, sizeof *ids, cmp_u32);
	*ret = ids;
	*count = n;
	return 0;
}
