/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validation of domain configurations and devices for the sim backend. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"

bool sim_uuid_valid(const char *u)
{
	for (int i = 0; i < XVM_UUID_STRLEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)u[i])) {
			return false;
		}
	}
	return u[XVM_UUID_STRLEN] == '\0';
}

static bool mac_valid(const char *m)
{
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
			return false;
	return m[17] == '\0';
}

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

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

int sim_disk_check(const struct xvm_hc_disk_config *d)
{
	if (!SIM_TERMINATED(d->path) || !SIM_TERMINATED(d->format)) {
		xvm_hv_set_error("disk %u: path or format is not NUL-terminated", d->position);
		return -EINVAL;
	}
	if (d->kind != XVM_HC_DISK && d->kind != XVM_HC_CDROM) {
		xvm_hv_set_error("disk %u: unknown kind %d", d->position, (int)d->kind);
		return -EINVAL;
	}
	if (d->kind == XVM_HC_DISK && !*d->path) {
		xvm_hv_set_error("disk %u: a disk needs a path (only a CD drive may be empty)",
				 d->position);
		return -EINVAL;
	}
	return 0;
}

int sim_nic_check(const struct xvm_hc_nic_config *n)
{
	if (!SIM_TERMINATED(n->mac) || !SIM_TERMINATED(n->bridge)) {
		xvm_hv_set_error("nic %u: mac or bridge is not NUL-terminated", n->position);
		return -EINVAL;
	}
	if (*n->mac && !mac_valid(n->mac)) {
		xvm_hv_set_error("nic %u: '%s' is not a MAC address", n->position, n->mac);
		return -EINVAL;
	}
	return 0;
}

static int devices_check(const struct xvm_hc_domain_config *c)
{
	int r;

	if (c->ndisks > XVM_HC_MAX_DISKS || c->nnics > XVM_HC_MAX_NICS) {
		xvm_hv_set_error("%u disks and %u nics; at most %d and %d",
				 c->ndisks, c->nnics, XVM_HC_MAX_DISKS, XVM_HC_MAX_NICS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < c->ndisks; i++) {
		r = sim_disk_check(&c->disks[i]);
		if (r < 0)
			return r;
		for (uint32_t j = 0; j < i; j++)
			if (c->disks[j].position == c->disks[i].position) {
				xvm_hv_set_error("two disks at position %u", c->disks[i].position);
				return -EINVAL;
			}
	}
	for (uint32_t i = 0; i < c->nnics; i++) {
		r = sim_nic_check(&c->nics[i]);
		if (r < 0)
			return r;
		for (uint32_t j = 0; j < i; j++)
			if (c->nics[j].position == c->nics[i].position) {
				xvm_hv_set_error("two nics at position %u", c->nics[i].position);
				return -EINVAL;
			}
	}
	return 0;
}

static int boot_check(const struct xvm_hc_domain_config *c)
{
	static const char *const firmwares[] = { "", "bios", "uefi", NULL };
	static const char *const machines[] = { "", "q35", "pc", NULL };
	int r;

	if (!SIM_TERMINATED(c->firmware) || !one_of(c->firmware, firmwares)) {
		xvm_hv_set_error("firmware must be \"bios\" or \"uefi\"");
		return -EINVAL;
	}
	if (!SIM_TERMINATED(c->machine) || !one_of(c->machine, machines)) {
		xvm_hv_set_error("machine must be \"q35\" or \"pc\"");
		return -EINVAL;
	}
	if (!SIM_TERMINATED(c->boot_order) || strspn(c->boot_order, "cdn") != strlen(c->boot_order)) {
		xvm_hv_set_error("boot order may only name c (disk), d (CD) and n (network)");
		return -EINVAL;
	}
	if (!SIM_TERMINATED(c->kernel) || !SIM_TERMINATED(c->ramdisk) || !SIM_TERMINATED(c->cmdline)) {
		xvm_hv_set_error("kernel, ramdisk or cmdline is not NUL-terminated");
		return -EINVAL;
	}
	if (c->boot == XVM_HC_BOOT_DIRECT_KERNEL && !*c->kernel) {
		xvm_hv_set_error("direct kernel boot needs a kernel");
		return -EINVAL;
	}
	if (c->boot != XVM_HC_BOOT_HVM && c->boot != XVM_HC_BOOT_DIRECT_KERNEL) {
		xvm_hv_set_error("unknown boot method %d", (int)c->boot);
		return -EINVAL;
	}
	r = boot_file_check("kernel", c->kernel);
	if (r < 0)
		return r;
	return boot_file_check("ramdisk", c->ramdisk);
}

int sim_config_check(const struct xvm_hc_domain_config *c, const struct sim_host *host)
{
	uint64_t cpus = sim_host_cpumask(host);

	if (!sim_uuid_valid(c->uuid)) {
		xvm_hv_set_error("'%.*s' is not a UUID", XVM_UUID_STRLEN, c->uuid);
		return -EINVAL;
	}
	if (!SIM_TERMINATED(c->name)) {
		xvm_hv_set_error("domain name is not NUL-terminated");
		return -EINVAL;
	}
	if (c->vcpus_max < 1 || c->vcpus_max > SIM_MAX_VCPUS) {
		xvm_hv_set_error("vcpus_max %u is out of range 1..%d", c->vcpus_max, SIM_MAX_VCPUS);
		return -EINVAL;
	}
	if (c->vcpus_online < 1 || c->vcpus_online > c->vcpus_max) {
		xvm_hv_set_error("vcpus_online %u is out of range 1..%u", c->vcpus_online,
				 c->vcpus_max);
		return -EINVAL;
	}
	if (!c->memory_static_max_kib || !c->memory_target_kib ||
	    c->memory_target_kib > c->memory_static_max_kib) {
		xvm_hv_set_error("memory target %" PRIu64 " KiB must be in 1..static max %" PRIu64 " KiB",
				 c->memory_target_kib, c->memory_static_max_kib);
		return -EINVAL;
	}
	for (uint32_t v = 0; v < c->vcpus_max; v++)
		if (c->vcpu_affinity[v] & ~cpus) {
			xvm_hv_set_error("vcpu %u affinity 0x%" PRIx64 " names CPUs the host (%u CPUs) lacks",
					 v, c->vcpu_affinity[v], host->cpu_count);
			return -EINVAL;
		}
	int r = boot_check(c);
	if (r < 0)
		return r;
	return devices_check(c);
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
	s->ndisks = c->ndisks;
	for (uint32_t i = 0; i < c->ndisks; i++)
		sim_disk_to_slot(&c->disks[i], &s->disks[i]);
	s->nnics = c->nnics;
	for (uint32_t i = 0; i < c->nnics; i++)
		sim_nic_to_slot(&c->nics[i], &s->nics[i]);
}
