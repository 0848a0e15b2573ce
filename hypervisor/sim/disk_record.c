/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sim's per-domain disk records (disk_record.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_check.h"
#include "disk_record.h"

#define RECORD_FORMAT "xvm-sim-disks"
#define RECORD_VERSION 1

int sim_disk_dir_init(struct sim *sim, const char *state_dir)
{
	int r;

	if (asprintf(&sim->disk_dir, "%s/sim-disks", state_dir) < 0) {
		sim->disk_dir = NULL;
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	if (mkdir(sim->disk_dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		xvm_hv_set_error("cannot create %s: %s", sim->disk_dir, strerror(-r));
		return r;
	}
	return 0;
}

static void record_path(const struct sim *sim, uint32_t domid, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%u", sim->disk_dir, domid);
}

static bool record_from_json(struct json_object *j, struct sim_disk_record *d)
{
	struct json_object *v;

	if (!json_object_object_get_ex(j, "position", &v) || !json_object_is_type(v, json_type_int))
		return false;
	d->position = (uint32_t)json_object_get_int64(v);
	if (!json_object_object_get_ex(j, "size", &v) || !json_object_is_type(v, json_type_int))
		return false;
	d->size = json_object_get_uint64(v);
	if (!json_object_object_get_ex(j, "ide", &v) || !json_object_is_type(v, json_type_boolean))
		return false;
	d->ide = json_object_get_boolean(v);
	if (!json_object_object_get_ex(j, "path", &v) || !json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) >= sizeof d->path)
		return false;
	strcpy(d->path, json_object_get_string(v));
	return true;
}

int sim_disks_read(const struct sim *sim, uint32_t domid, struct sim_disk_records *ret)
{
	char path[4096];
	struct json_object *o, *v, *a;
	bool ok;

	record_path(sim, domid, path, sizeof path);
	ret->n = 0;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	o = json_object_from_file(path);
	ok = o && json_object_object_get_ex(o, "format", &v) && json_object_is_type(v, json_type_string) &&
	     !strcmp(json_object_get_string(v), RECORD_FORMAT) && json_object_object_get_ex(o, "version", &v) &&
	     json_object_get_int(v) == RECORD_VERSION && json_object_object_get_ex(o, "disks", &a) &&
	     json_object_is_type(a, json_type_array) && json_object_array_length(a) <= XVM_HC_MAX_DISKS;
	for (size_t i = 0; ok && i < json_object_array_length(a); i++)
		ok = record_from_json(json_object_array_get_idx(a, i), &ret->d[ret->n++]);
	json_object_put(o);
	if (!ok) {
		ret->n = 0;
		xvm_hv_set_error("%s is not a sim disk record of version %d", path, RECORD_VERSION);
		return -EINVAL;
	}
	return 0;
}

int sim_disks_write(const struct sim *sim, uint32_t domid, const struct sim_disk_records *recs)
{
	char path[4096], tmp[4200];
	struct json_object *o, *a;
	int r = 0;

	record_path(sim, domid, path, sizeof path);
	if (!recs->n) {
		sim_disks_forget(sim, domid);
		return 0;
	}
	o = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(o, "format", json_object_new_string(RECORD_FORMAT));
	json_object_object_add(o, "version", json_object_new_int(RECORD_VERSION));
	for (uint32_t i = 0; i < recs->n; i++) {
		const struct sim_disk_record *d = &recs->d[i];
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "position", json_object_new_int64(d->position));
		json_object_object_add(j, "path", json_object_new_string(d->path));
		json_object_object_add(j, "size", json_object_new_uint64(d->size));
		json_object_object_add(j, "ide", json_object_new_boolean(d->ide));
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "disks", a);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	/* Renamed into place: a reader sees the old record or the new one. */
	if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PLAIN) < 0 || rename(tmp, path) < 0) {
		r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot write %s: %s", path, strerror(-r));
		unlink(tmp);
	}
	json_object_put(o);
	return r;
}

void sim_disks_forget(const struct sim *sim, uint32_t domid)
{
	char path[4096];

	record_path(sim, domid, path, sizeof path);
	unlink(path);
}

void sim_disks_add(struct sim_disk_records *recs, const struct xvm_hc_disk_config *d, bool ide)
{
	struct sim_disk_record *rec = &recs->d[recs->n++];

	*rec = (struct sim_disk_record){ .position = d->position, .ide = ide };
	memcpy(rec->path, d->path, sizeof rec->path);
}

int sim_disks_write_config(const struct sim *sim, uint32_t domid, const struct xvm_hc_domain_config *c)
{
	struct sim_disk_records *recs;
	int r;

	if (!c->ndisks)
		return 0; /* a new domid has no file to remove */
	if (!(recs = malloc(sizeof *recs))) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	recs->n = 0;
	for (uint32_t i = 0; i < c->ndisks; i++)
		sim_disks_add(recs, &c->disks[i], hv_disk_on_ide(c->machine, c->disks[i].position, false));
	r = sim_disks_write(sim, domid, recs);
	free(recs);
	return r;
}

struct sim_disk_record *sim_disks_find(struct sim_disk_records *recs, uint32_t domid, uint32_t position)
{
	for (uint32_t i = 0; i < recs->n; i++)
		if (recs->d[i].position == position)
			return &recs->d[i];
	xvm_hv_set_error("domain %u has no record of its disk at position %u", domid, position);
	return NULL;
}

void sim_disks_remove(struct sim_disk_records *recs, uint32_t position)
{
	for (uint32_t i = 0; i < recs->n; i++)
		if (recs->d[i].position == position) {
			memmove(&recs->d[i], &recs->d[i + 1], (--recs->n - i) * sizeof recs->d[0]);
			return;
		}
}
