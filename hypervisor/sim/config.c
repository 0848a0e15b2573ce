/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validation of domain configurations and devices for the sim backend. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"

/* A real backend fails to open a boot file that is not there. */
static int boot_file_check(const char *what, const char *path)
{
	if (*path && access(path, F_OK) < 0) {
		int r = -errno;
		xvm_hv_set_error("%s %s: %s", what, path, strerror(-r));
		return r;
	}
	return 0;
}

int sim_config_check(const struct xvm_hc_domain_config *c, const struct sim_host *host)
{
	int r = hv_config_check(c, SIM_MAX_VCPUS);

	if (r < 0)
		return r;
	if (!c->memory_static_max_kib || !c->memory_target_kib ||
	    c->memory_target_kib > c->memory_static_max_kib) {
		xvm_hv_set_error("memory target %" PRIu64 " KiB must be in 1..static max %" PRIu64 " KiB",
				 c->memory_target_kib, c->memory_static_max_kib);
		return -EINVAL;
	}
	if ((r = hv_affinity_check(c, sim_host_cpumask(host), host->cpu_count)) < 0 ||
	    (r = hv_boot_check(c)) < 0 || (r = boot_file_check("kernel", c->kernel)) < 0 ||
	    (r = boot_file_check("ramdisk", c->ramdisk)) < 0)
		return r;
	return hv_devices_check(c, hv_disk_check, hv_nic_check);
}

void sim_disk_to_slot(const struct xvm_hc_disk_config *d, struct sim_disk *out)
{
	*out = (struct sim_disk){
		.position = d->position,
		.kind = d->kind,
		.read_only = d->read_only,
		.bootable = d->bootable,
		.has_media = *d->path != '\0',
	};
	memcpy(out->format, d->format, sizeof out->format);
}

void sim_nic_to_slot(const struct xvm_hc_nic_config *n, struct sim_nic *out)
{
	*out = (struct sim_nic){ .position = n->position };
	memcpy(out->mac, n->mac, sizeof out->mac);
}

void sim_config_to_slot(const struct xvm_hc_domain_config *c, struct sim_slot *s)
{
	/* Lower case, so that the duplicate check cannot be fooled by case. */
	for (int i = 0; i <= XVM_UUID_STRLEN; i++)
		s->uuid[i] = tolower((unsigned char)c->uuid[i]);
	s->vcpus_max = c->vcpus_max;
	s->vcpus_online = c->vcpus_online;
	s->memory_static_max_kib = c->memory_static_max_kib;
	s->memory_target_kib = c->memory_target_kib;
	s->flags = *c->vtpm_dir ? SIM_SLOT_VTPM : 0;
	s->ndisks = c->ndisks;
	for (uint32_t i = 0; i < c->ndisks; i++)
		sim_disk_to_slot(&c->disks[i], &s->disks[i]);
	s->nnics = c->nnics;
	for (uint32_t i = 0; i < c->nnics; i++)
		sim_nic_to_slot(&c->nics[i], &s->nics[i]);
}
