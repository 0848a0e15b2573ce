/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sim's disk records, one per table slot in STATE_DIR/sim-disks (disk_record.h). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_check.h"
#include "disk_record.h"

#define RECORDS_MAGIC "XVMSIMDK"
#define RECORDS_VERSION 1u
#define RECORDS_HEADER 4096

struct records_header {
	char magic[8];
	uint32_t version;
	uint32_t record_size;
};

_Static_assert(sizeof(struct sim_disk_record) == 1040, "record layout changed: bump RECORDS_VERSION");
_Static_assert(offsetof(struct sim_disk_records, d) == 8, "record layout changed: bump RECORDS_VERSION");

static int fail(const char *what, const char *path)
{
	int r = errno ? -errno : -EIO;

	xvm_hv_set_error("cannot %s %s: %s", what, path, strerror(-r));
	return r;
}

int sim_disks_open(struct sim *sim, const char *state_dir)
{
	struct records_header want = { .magic = RECORDS_MAGIC, .version = RECORDS_VERSION,
				       .record_size = sizeof(struct sim_disk_records) }, h;
	char path[4096];
	ssize_t n;

	snprintf(path, sizeof path, "%s/sim-disks", state_dir);
	sim->disk_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sim->disk_fd < 0)
		return fail("open", path);
	n = pread(sim->disk_fd, &h, sizeof h, 0);
	if (n == 0) {
		/* New: whoever writes the header first, it is the same header. */
		if (pwrite(sim->disk_fd, &want, sizeof want, 0) != sizeof want)
			return fail("write", path);
		return 0;
	}
	if (n != sizeof h || memcmp(&h, &want, sizeof h)) {
		xvm_hv_set_error("%s is not a sim disk record file of version %u; refusing to touch it", path,
				 RECORDS_VERSION);
		return -EINVAL;
	}
	return 0;
}

static off_t record_offset(const struct sim *sim, const struct sim_slot *s)
{
	return RECORDS_HEADER + (off_t)sim_table_slot_index(sim->table, s) * (off_t)sizeof(struct sim_disk_records);
}

int sim_disks_read(const struct sim *sim, const struct sim_slot *s, struct sim_disk_records *ret)
{
	size_t len;
	ssize_t n = pread(sim->disk_fd, ret, offsetof(struct sim_disk_records, d), record_offset(sim, s));

	if (n < 0) {
		int r = -errno;
		xvm_hv_set_error("cannot read the disk records of domain %u: %s", s->domid, strerror(-r));
		return r;
	}
	/* A hole, or what an earlier domain in this slot left. */
	if ((size_t)n < offsetof(struct sim_disk_records, d) || ret->domid != s->domid) {
		ret->domid = s->domid;
		ret->n = 0;
		return 0;
	}
	len = ret->n * sizeof ret->d[0];
	if (ret->n > XVM_HC_MAX_DISKS ||
	    pread(sim->disk_fd, ret->d, len, record_offset(sim, s) + offsetof(struct sim_disk_records, d)) != (ssize_t)len)
		goto corrupt;
	for (uint32_t i = 0; i < ret->n; i++)
		if (!HV_TERMINATED(ret->d[i].path))
			goto corrupt;
	return 0;
corrupt:
	ret->n = 0;
	xvm_hv_set_error("the disk records of domain %u are corrupt", s->domid);
	return -EINVAL;
}

int sim_disks_write(const struct sim *sim, const struct sim_slot *s, struct sim_disk_records *recs)
{
	size_t len = offsetof(struct sim_disk_records, d) + recs->n * sizeof recs->d[0];

	recs->domid = s->domid;
	if (pwrite(sim->disk_fd, recs, len, record_offset(sim, s)) != (ssize_t)len) {
		int r = errno ? -errno : -ENOSPC;
		xvm_hv_set_error("cannot write the disk records of domain %u: %s", s->domid, strerror(-r));
		return r;
	}
	return 0;
}

void sim_disks_add(struct sim_disk_records *recs, const struct xvm_hc_disk_config *d, bool ide)
{
	struct sim_disk_record *rec = &recs->d[recs->n++];

	*rec = (struct sim_disk_record){ .position = d->position, .ide = ide };
	memcpy(rec->path, d->path, sizeof rec->path);
}

int sim_disks_write_config(const struct sim *sim, const struct sim_slot *s, const struct xvm_hc_domain_config *c)
{
	struct sim_disk_records *recs;
	int r;

	if (!c->ndisks)
		return 0; /* whatever the slot holds names another domid */
	if (!(recs = malloc(sizeof *recs))) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	recs->n = 0;
	for (uint32_t i = 0; i < c->ndisks; i++)
		sim_disks_add(recs, &c->disks[i], hv_disk_on_ide(c->machine, c->disks[i].position, false));
	r = sim_disks_write(sim, s, recs);
	free(recs);
	return r;
}

struct sim_disk_record *sim_disks_find(struct sim_disk_records *recs, uint32_t position)
{
	for (uint32_t i = 0; i < recs->n; i++)
		if (recs->d[i].position == position)
			return &recs->d[i];
	xvm_hv_set_error("domain %u has no record of its disk at position %u", recs->domid, position);
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
