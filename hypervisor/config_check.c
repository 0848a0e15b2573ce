/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Backend-independent validation of domain configs and devices. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "backend.h"
#include "config_check.h"

bool hv_uuid_valid(const char *u)
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

bool hv_one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

int hv_config_check(const struct xvm_hc_domain_config *c, uint32_t max_vcpus)
{
	if (!hv_uuid_valid(c->uuid)) {
		xvm_hv_set_error("'%.*s' is not a UUID", XVM_UUID_STRLEN, c->uuid);
		return -EINVAL;
	}
	if (!HV_TERMINATED(c->name)) {
		xvm_hv_set_error("domain name is not NUL-terminated");
		return -EINVAL;
	}
	if (c->vcpus_max < 1 || c->vcpus_max > max_vcpus) {
		xvm_hv_set_error("vcpus_max %u is out of range 1..%u", c->vcpus_max, max_vcpus);
		return -EINVAL;
	}
	if (c->vcpus_online < 1 || c->vcpus_online > c->vcpus_max) {
		xvm_hv_set_error("vcpus_online %u is out of range 1..%u", c->vcpus_online,
				 c->vcpus_max);
		return -EINVAL;
	}
	return 0;
}

int hv_affinity_check(const struct xvm_hc_domain_config *c, uint64_t cpumask, uint32_t cpu_count)
{
	for (uint32_t v = 0; v < c->vcpus_max; v++)
		if (c->vcpu_affinity[v] & ~cpumask) {
			xvm_hv_set_error("vcpu %u affinity 0x%" PRIx64 " names CPUs the host (%u CPUs) lacks",
					 v, c->vcpu_affinity[v], cpu_count);
			return -EINVAL;
		}
	return 0;
}

int hv_boot_check(const struct xvm_hc_domain_config *c)
{
	static const char *const firmwares[] = { "", "bios", "uefi", NULL };
	static const char *const machines[] = { "", "q35", "pc", NULL };

	if (!HV_TERMINATED(c->firmware) || !hv_one_of(c->firmware, firmwares)) {
		xvm_hv_set_error("firmware must be \"bios\" or \"uefi\"");
		return -EINVAL;
	}
	if (!HV_TERMINATED(c->machine) || !hv_one_of(c->machine, machines)) {
		xvm_hv_set_error("machine must be \"q35\" or \"pc\"");
		return -EINVAL;
	}
	if (!HV_TERMINATED(c->boot_order) || strspn(c->boot_order, "cdn") != strlen(c->boot_order)) {
		xvm_hv_set_error("boot order may only name c (disk), d (CD) and n (network)");
		return -EINVAL;
	}
	if (!HV_TERMINATED(c->kernel) || !HV_TERMINATED(c->ramdisk) || !HV_TERMINATED(c->cmdline)) {
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
	return 0;
}

int hv_disk_check(const struct xvm_hc_disk_config *d)
{
	if (!HV_TERMINATED(d->path) || !HV_TERMINATED(d->format)) {
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

int hv_nic_check(const struct xvm_hc_nic_config *n)
{
	if (!HV_TERMINATED(n->mac) || !HV_TERMINATED(n->bridge)) {
		xvm_hv_set_error("nic %u: mac or bridge is not NUL-terminated", n->position);
		return -EINVAL;
	}
	if (*n->mac && !mac_valid(n->mac)) {
		xvm_hv_set_error("nic %u: '%s' is not a MAC address", n->position, n->mac);
		return -EINVAL;
	}
	return 0;
}

int hv_devices_check(const struct xvm_hc_domain_config *c,
		     int (*disk_check)(const struct xvm_hc_disk_config *d),
		     int (*nic_check)(const struct xvm_hc_nic_config *n))
{
	int r;

	if (c->ndisks > XVM_HC_MAX_DISKS || c->nnics > XVM_HC_MAX_NICS) {
		xvm_hv_set_error("%u disks and %u nics; at most %d and %d",
				 c->ndisks, c->nnics, XVM_HC_MAX_DISKS, XVM_HC_MAX_NICS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < c->ndisks; i++) {
		r = disk_check(&c->disks[i]);
		if (r < 0)
			return r;
		for (uint32_t j = 0; j < i; j++)
			if (c->disks[j].position == c->disks[i].position) {
				xvm_hv_set_error("two disks at position %u", c->disks[i].position);
				return -EINVAL;
			}
	}
	for (uint32_t i = 0; i < c->nnics; i++) {
		r = nic_check(&c->nics[i]);
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
