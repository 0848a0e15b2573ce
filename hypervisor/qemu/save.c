/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SAVE and RESTORE. The save file, versioned and self-describing in the
 * manner of Xen's migration stream:
 *
 *   "XVMQSAVE" | u32 version (1) | u32 n | n bytes of JSON | zeros to 4 KiB
 *        the JSON: {"format": "xvm-qemu-save", "version": 1, "config": {...},
 *                   "start_time", "memory_target_kib"}
 *   QEMU's migration stream ("QEVM" ...), written by QEMU itself
 *   "XVMQEND\0" | u64 header bytes | u64 stream bytes      (the END record)
 *
 * Integers little-endian. The END record is written after QEMU says the
 * migration completed, and the file is renamed into place only then, so a
 * truncated or half-written file is refused before any QEMU starts; one
 * corrupt inside QEMU's stream is refused by QEMU, and nothing is left.
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"
#include "qmp.h"

#define SAVE_MAGIC "XVMQSAVE"
#define END_MAGIC "XVMQEND"
#define SAVE_VERSION 1
#define SAVE_FORMAT "xvm-qemu-save"
#define SAVE_ALIGN 4096
#define SAVE_JSON_MAX (1 << 20)
#define MIGRATE_TIMEOUT_MS 300000

struct end_record {
	char magic[8];
	uint64_t header_len;
	uint64_t stream_len;
};

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

static int check_path(const char *op, const char (*path)[XVM_HC_PATH_MAX])
{
	if (strnlen(*path, sizeof *path) == sizeof *path || !**path) {
		xvm_hv_set_error("%s: the path is empty or not NUL-terminated", op);
		return -EINVAL;
	}
	return 0;
}

/* 'path' for /bin/sh, which runs QEMU's exec: migration URIs. */
static char *shell_quote(const char *s)
{
	char *out = malloc(4 * strlen(s) + 3), *o = out;

	if (!out)
		return NULL;
	*o++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

static int write_header(int fd, const struct qdom *d, uint64_t *len)
{
	struct json_object *o = json_object_new_object();
	const char *text;
	uint32_t v = htole32(SAVE_VERSION), n;
	char *buf;
	size_t total;
	int r = 0;

	json_object_object_add(o, "format", json_object_new_string(SAVE_FORMAT));
	json_object_object_add(o, "version", json_object_new_int(SAVE_VERSION));
	json_object_object_add(o, "config", qemu_config_to_json(&d->cfg));
	json_object_object_add(o, "start_time", json_object_new_int64((int64_t)d->start_time));
	json_object_object_add(o, "memory_target_kib", json_object_new_int64((int64_t)d->memory_target_kib));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = (uint32_t)strlen(text);
	total = (16 + n + SAVE_ALIGN - 1) / SAVE_ALIGN * SAVE_ALIGN;
	buf = calloc(1, total);
	if (!buf) {
		json_object_put(o);
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	memcpy(buf, SAVE_MAGIC, 8);
	memcpy(buf + 8, &v, 4);
	n = htole32(n);
	memcpy(buf + 12, &n, 4);
	memcpy(buf + 16, text, strlen(text));
	if (write(fd, buf, total) != (ssize_t)total) {
		r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot write the save header: %s", strerror(-r));
	}
	free(buf);
	json_object_put(o);
	*len = total;
	return r;
}

/* Polls query-migrate, a connection each time so that other callers get QMP in between. */
static int wait_migration(const struct qdom *d, const char *what)
{
	struct json_object *m, *v;
	struct qmp *q;
	char status[32];
	int r;

	for (int waited = 0;; waited += 20) {
		if ((r = qemu_qmp(d, &q)) < 0)
			return r;
		r = qmp_command(q, "query-migrate", NULL, &m);
		if (r < 0) {
			qmp_close(q);
			return r;
		}
		snprintf(status, sizeof status, "%s",
			 json_object_object_get_ex(m, "status", &v) ? json_object_get_string(v) : "none");
		if (!strcmp(status, "failed") || !strcmp(status, "cancelled")) {
			xvm_hv_set_error("domain %u: %s failed: %.900s", d->domid, what,
					 json_object_object_get_ex(m, "error-desc", &v) ? json_object_get_string(v)
											: status);
			r = -EIO;
		} else if (strcmp(status, "completed") && waited >= MIGRATE_TIMEOUT_MS) {
			qmp_command(q, "migrate_cancel", NULL, NULL);
			xvm_hv_set_error("domain %u: %s did not finish within %d s", d->domid, what,
					 MIGRATE_TIMEOUT_MS / 1000);
			r = -ETIMEDOUT;
		}
		json_object_put(m);
		qmp_close(q);
		if (r < 0 || !strcmp(status, "completed"))
			return r;
		sleep_ms(20);
	}
}

static int finish_file(const char *tmp, const char *path, uint64_t header_len)
{
	struct end_record end = { .magic = END_MAGIC };
	struct stat st;
	int fd = open(tmp, O_WRONLY | O_APPEND | O_CLOEXEC), r = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size < header_len + 4)
		r = errno ? -errno : -EIO;
	if (r == 0) {
		end.header_len = htole64(header_len);
		end.stream_len = htole64((uint64_t)st.st_size - header_len);
		if (write(fd, &end, sizeof end) != sizeof end || fsync(fd) < 0)
			r = errno ? -errno : -EIO;
	}
	if (fd >= 0)
		close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		xvm_hv_set_error("cannot finish the save file %s: %s", path, strerror(-r));
	return r;
}

static int save_locked(struct qemu *qm, struct qdom *d, const char *path, bool keep)
{
	struct json_object *args;
	char tmp[PATH_MAX + 8], status[32] = "", *quoted, *uri = NULL;
	struct json_object *st, *v;
	uint64_t header_len;
	struct qmp *q;
	int fd, r;

	if ((r = qemu_dom_live(d, &q)) < 0)
		return r;
	if ((r = qmp_command(q, "query-status", NULL, &st)) == 0) {
		snprintf(status, sizeof status, "%s",
			 json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "");
		json_object_put(st);
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = r < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (r == 0 && fd < 0) {
		r = -errno;
		xvm_hv_set_error("cannot create %s: %s", tmp, strerror(-r));
	}
	if (r == 0)
		r = write_header(fd, d, &header_len);
	if (fd >= 0)
		close(fd);
	quoted = shell_quote(tmp);
	if (r == 0 && (!quoted || asprintf(&uri, "exec:cat >> %s", quoted) < 0)) {
		xvm_hv_set_error("out of memory");
		r = -ENOMEM;
	}
	free(quoted);
	/* Stopped first: what is saved is one instant of the guest. */
	if (r == 0 && !strcmp(status, "running"))
		r = qmp_command(q, "stop", NULL, NULL);
	if (r == 0)
		r = qmp_commandf(q, NULL, "migrate-set-parameters", "{\"max-bandwidth\": %" PRId64 "}",
				 (int64_t)1 << 40);
	if (r == 0) {
		args = json_object_new_object();
		json_object_object_add(args, "uri", json_object_new_string(uri));
		r = qmp_command(q, "migrate", args, NULL);
		json_object_put(args);
	}
	free(uri);
	qmp_close(q);
	if (r == 0)
		r = wait_migration(d, "saving");
	if (r == 0)
		r = finish_file(tmp, path, header_len);
	if (r < 0) {
		unlink(tmp);
		if (!strcmp(status, "running") && qemu_qmp(d, &q) == 0) {
			qmp_command(q, "cont", NULL, NULL); /* the guest runs on as before */
			qmp_close(q);
		}
		return r;
	}
	if (keep) {
		/* A paused guest stays in QEMU's "postmigrate": its disks come back to it with the unpause. */
		if (!strcmp(status, "running") && (r = qemu_qmp(d, &q)) == 0) {
			r = qmp_command(q, "cont", NULL, NULL);
			qmp_close(q);
		}
		return r;
	}
	close(open(qemu_path(tmp, d, "destroying"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	qemu_stop(d, true);
	qemu_forget(qm, d);
	return 0;
}

int qemu_op_domain_save(void *priv, void *arg)
{
	struct xvm_hc_domain_save *a = arg;
	struct qdom *d;
	int r = check_path("domain_save", &a->path);

	if (r < 0 || (r = qemu_dom_open_locked(priv, a->domid, &d)) < 0)
		return r;
	r = save_locked(priv, d, a->path, a->head.flags & XVM_HC_F_SAVE_KEEP);
	qemu_dom_free(d);
	return r;
}

/* --- RESTORE ------------------------------------------------------------ */

struct saved {
	struct xvm_hc_domain_config cfg;
	uint64_t start_time, memory_target_kib;
	uint64_t header_len, stream_len;
};

static int corrupt(const char *path, const char *why)
{
	xvm_hv_set_error("%s is not a usable save file: %s", path, why);
	return -EINVAL;
}

static int parse_header(const char *path, const char *json, struct saved *s)
{
	struct json_object *o = json_tokener_parse(json), *v;
	int r = 0;

	if (!o || !json_object_object_get_ex(o, "format", &v) || strcmp(json_object_get_string(v), SAVE_FORMAT) ||
	    !json_object_object_get_ex(o, "version", &v) || json_object_get_int(v) != SAVE_VERSION)
		r = corrupt(path, "its header is not an xvm qemu save header of version 1");
	else if (!json_object_object_get_ex(o, "config", &v) || qemu_config_from_json(v, &s->cfg) < 0)
		r = corrupt(path, "the domain config in its header is malformed");
	if (r == 0) {
		if (json_object_object_get_ex(o, "start_time", &v))
			s->start_time = (uint64_t)json_object_get_int64(v);
		if (json_object_object_get_ex(o, "memory_target_kib", &v))
			s->memory_target_kib = (uint64_t)json_object_get_int64(v);
	}
	json_object_put(o);
	return r;
}

static int read_saved(const char *path, struct saved *s)
{
	char head[16], qevm[4], *json = NULL;
	struct end_record end;
	uint32_t version, n;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		r = -errno;
		xvm_hv_set_error("cannot open %s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || pread(fd, head, 16, 0) != 16 || memcmp(head, SAVE_MAGIC, 8)) {
		r = corrupt(path, "it does not start with XVMQSAVE");
		goto out;
	}
	memcpy(&version, head + 8, 4);
	memcpy(&n, head + 12, 4);
	version = le32toh(version);
	n = le32toh(n);
	if (version != SAVE_VERSION) {
		xvm_hv_set_error("%s has save format version %u; this build reads version %d", path, version,
				 SAVE_VERSION);
		r = -EINVAL;
		goto out;
	}
	if (n == 0 || n > SAVE_JSON_MAX || !(json = calloc(1, n + 1)) || pread(fd, json, n, 16) != (ssize_t)n) {
		r = corrupt(path, "its header is truncated or oversized");
		goto out;
	}
	if ((r = parse_header(path, json, s)) < 0)
		goto out;
	s->header_len = (16 + n + SAVE_ALIGN - 1) / SAVE_ALIGN * SAVE_ALIGN;
	if ((uint64_t)st.st_size < s->header_len + sizeof end ||
	    pread(fd, &end, sizeof end, st.st_size - sizeof end) != sizeof end ||
	    memcmp(end.magic, END_MAGIC, 8) || le64toh(end.header_len) != s->header_len ||
	    s->header_len + le64toh(end.stream_len) + sizeof end != (uint64_t)st.st_size) {
		r = corrupt(path, "it is truncated (no valid END record)");
		goto out;
	}
	s->stream_len = le64toh(end.stream_len);
	if (pread(fd, qevm, 4, s->header_len) != 4 || memcmp(qevm, "QEVM", 4))
		r = corrupt(path, "it holds no QEMU migration stream");
out:
	free(json);
	close(fd);
	return r;
}

/* QEMU loads device state into devices of the same shape only. */
static int same_shape(const char *path, const struct xvm_hc_domain_config *c, const struct xvm_hc_domain_config *s)
{
	bool ok = c->vcpus_max == s->vcpus_max && c->memory_static_max_kib == s->memory_static_max_kib &&
		  !strcmp(c->machine, s->machine) && !strcmp(c->firmware, s->firmware) &&
		  c->ndisks == s->ndisks && c->nnics == s->nnics;

	for (uint32_t i = 0; ok && i < c->ndisks; i++)
		ok = c->disks[i].position == s->disks[i].position && c->disks[i].kind == s->disks[i].kind &&
		     !*c->disks[i].path == !*s->disks[i].path;
	for (uint32_t i = 0; ok && i < c->nnics; i++)
		ok = c->nics[i].position == s->nics[i].position;
	if (!ok) {
		xvm_hv_set_error("%s holds a domain with %u vCPUs, %" PRIu64 " KiB, %u disks and %u nics on %s; "
				 "the config asks for a different one (%u vCPUs, %" PRIu64 " KiB, %u disks, %u nics, %s)",
				 path, s->vcpus_max, s->memory_static_max_kib, s->ndisks, s->nnics, s->machine,
				 c->vcpus_max, c->memory_static_max_kib, c->ndisks, c->nnics, c->machine);
		return -EINVAL;
	}
	return 0;
}

/* QEMU loads the stream while "inmigrate"; a bad stream makes it exit. */
static int wait_loaded(const struct qdom *d, const char *path)
{
	char status[32] = "inmigrate", tail[1024];
	struct json_object *st, *v;
	struct qmp *q;
	int r = 0;

	for (int waited = 0; !strcmp(status, "inmigrate"); waited += 20) {
		if (!qemu_alive(d, NULL) || qemu_qmp(d, &q) < 0) {
			sleep_ms(100); /* let its last words reach the log */
			qemu_log_tail(d, tail, sizeof tail);
			xvm_hv_set_error("%s is corrupt: QEMU could not load it: %s", path, tail);
			return -EINVAL;
		}
		if ((r = qmp_command(q, "query-status", NULL, &st)) == 0) {
			snprintf(status, sizeof status, "%s",
				 json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "");
			json_object_put(st);
		}
		qmp_close(q);
		if (r < 0)
			return r;
		if (waited >= MIGRATE_TIMEOUT_MS) {
			xvm_hv_set_error("domain %u: restoring %s did not finish within %d s", d->domid, path,
					 MIGRATE_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		if (!strcmp(status, "inmigrate"))
			sleep_ms(20);
	}
	return 0;
}

int qemu_op_domain_restore(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_domain_restore *a = arg;
	char *quoted = NULL, *incoming = NULL, p[PATH_MAX];
	struct saved *s = NULL;
	struct qdom *d = NULL;
	struct qmp *q = NULL;
	int r;

	if (!a->config) {
		xvm_hv_set_error("domain_restore: no config");
		return -EFAULT;
	}
	if ((r = check_path("domain_restore", &a->path)) < 0 ||
	    (r = qemu_config_check(a->config, &qm->host)) < 0)
		return r;
	if (!(s = calloc(1, sizeof *s)) || !(d = qemu_dom_new())) {
		free(s);
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	if ((r = read_saved(a->path, s)) < 0 || (r = same_shape(a->path, a->config, &s->cfg)) < 0)
		goto out;
	quoted = shell_quote(a->path);
	if (!quoted || asprintf(&incoming, "exec:tail -c +%" PRIu64 " %s | head -c %" PRIu64, s->header_len + 1,
				quoted, s->stream_len) < 0) {
		incoming = NULL;
		xvm_hv_set_error("out of memory");
		r = -ENOMEM;
		goto out;
	}
	/* The new config (paths, even the uuid) with the saved run's state. */
	d->cfg = *a->config;
	for (int i = 0; i < XVM_UUID_STRLEN; i++)
		d->cfg.uuid[i] = (char)tolower((unsigned char)d->cfg.uuid[i]);
	d->cfg.vcpus_online = s->cfg.vcpus_online;
	d->accel = qm->host.accel;
	d->start_time = s->start_time ? s->start_time : (uint64_t)time(NULL);
	d->memory_target_kib = s->memory_target_kib ? s->memory_target_kib : d->cfg.memory_target_kib;
	if ((r = qemu_admit(qm, d)) < 0)
		goto out;
	r = qemu_dom_start(qm, d, incoming, &q);
	q = qmp_close(q);
	if (r == 0)
		r = wait_loaded(d, a->path);
	/* QEMU exits when the stream does not load, whatever step noticed it. */
	if (r < 0 && r != -EINVAL && !qemu_alive(d, NULL)) {
		char tail[1024];
		qemu_log_tail(d, tail, sizeof tail);
		xvm_hv_set_error("%s is corrupt: QEMU could not load it: %s", a->path, tail);
		r = -EINVAL;
	}
	if (r == 0) {
		a->domid = d->domid;
	} else {
		close(open(qemu_path(p, d, "destroying"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		qemu_stop(d, false);
		qemu_forget(qm, d);
	}
out:
	free(quoted);
	free(incoming);
	free(s);
	qemu_dom_free(d);
	return r;
}
