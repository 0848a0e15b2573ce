/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Backend-independent validation of domain configs and devices. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "config_check.h"
#include "url.h"

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
	return hv_vtpm_check(c);
}

int hv_vtpm_check(const struct xvm_hc_domain_config *c)
{
	struct stat st;

	if (!HV_TERMINATED(c->vtpm_dir)) {
		xvm_hv_set_error("vtpm_dir is not NUL-terminated");
		return -EINVAL;
	}
	if (!*c->vtpm_dir)
		return 0;
	/* swtpm's option syntax has no escape for a comma. */
	if (c->vtpm_dir[0] != '/' || strchr(c->vtpm_dir, ',')) {
		xvm_hv_set_error("vTPM state dir '%s' must be an absolute path without commas", c->vtpm_dir);
		return -EINVAL;
	}
	if (stat(c->vtpm_dir, &st) < 0) {
		int r = -errno;
		xvm_hv_set_error("vTPM state dir %s: %s", c->vtpm_dir, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		xvm_hv_set_error("vTPM state dir %s is not a directory", c->vtpm_dir);
		return -ENOTDIR;
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
	if (hv_path_is_url(d->path)) {
		struct hv_nfs_url u;
		char what[32];

		snprintf(what, sizeof what, "disk %u:", d->position);
		return hv_nfs_url_parse(what, d->path, &u);
	}
	return 0;
}

/* What Linux takes as an interface name, and no comma (QEMU's option syntax). */
static bool bridge_name_valid(const char *b)
{
	return strcmp(b, ".") && strcmp(b, "..") &&
	       strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == strlen(b);
}

int hv_bridge_check(const struct xvm_hc_bridge *a)
{
	const char *bridge = a->bridge;

	if (!HV_TERMINATED(a->bridge) || !*bridge || !bridge_name_valid(bridge)) {
		xvm_hv_set_error("'%.*s' is not a bridge name", XVM_HC_BRIDGE_MAX, bridge);
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
	if (!bridge_name_valid(n->bridge)) {
		xvm_hv_set_error("nic %u: '%s' is not a bridge name", n->position, n->bridge);
		return -EINVAL;
	}
	if (n->managed_bridge && !*n->bridge) {
		xvm_hv_set_error("nic %u: a managed bridge needs a name", n->position);
		return -EINVAL;
	}
	if (n->mtu && (n->mtu < 68 || n->mtu > 65535)) {
		xvm_hv_set_error("nic %u: MTU %u is outside 68..65535", n->position, n->mtu);
		return -EINVAL;
	}
	if (n->model != XVM_HC_NIC_VIRTIO && n->model != XVM_HC_NIC_E1000) {
		xvm_hv_set_error("nic %u: unknown model %d", n->position, (int)n->model);
		return -EINVAL;
	}
	/* vif<domid>.<position> must fit a name of 15 bytes with any domid. */
	if (n->position >= 100) {
		xvm_hv_set_error("nic %u: positions go up to 99", n->position);
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

uint32_t hv_ide_ports(const char *machine)
{
	return strcmp(machine, "pc") ? 6 : 4;
}

bool hv_disk_on_ide(const char *machine, uint32_t position, bool hotplugged)
{
	return !hotplugged && position < hv_ide_ports(machine);
}

int hv_resize_check(uint32_t domid, const struct xvm_hc_disk_config *d, bool ide, uint64_t current,
		    uint64_t size)
{
	if (d->kind != XVM_HC_DISK) {
		xvm_hv_set_error("position %u of domain %u is a CD drive; only disks are resized", d->position, domid);
		return -EINVAL;
	}
	if (d->read_only) {
		xvm_hv_set_error("disk %u of domain %u is read-only", d->position, domid);
		return -EINVAL;
	}
	if (!size || size % 512 || size > INT64_MAX) {
		xvm_hv_set_error("disk %u: %" PRIu64 " bytes is no disk size: guests count 512-byte sectors",
				 d->position, size);
		return -EINVAL;
	}
	if (ide) {
		xvm_hv_set_error("disk %u of domain %u is on the IDE/AHCI controller, which cannot tell a running "
				 "guest that its size changed; resize it while the VM is halted, or use a virtio "
				 "disk (hot-plugged, or at a position above the board's IDE ports)", d->position, domid);
		return -EOPNOTSUPP;
	}
	if (size < current) {
		xvm_hv_set_error("disk %u of domain %u has %" PRIu64 " bytes; shrinking it to %" PRIu64
				 " would cut off what the guest wrote there", d->position, domid, current, size);
		return -EINVAL;
	}
	return 0;
}

int hv_snapshot_args(const struct xvm_hc_disk_snapshot *a, struct xvm_hc_disk_config *ret)
{
	struct xvm_hc_disk_config ov = { .kind = XVM_HC_DISK, .position = a->position };

	if (!HV_TERMINATED(a->overlay_path) || !HV_TERMINATED(a->overlay_format) || !*a->overlay_path) {
		xvm_hv_set_error("disk_snapshot: the overlay path is empty, or it or the format is not NUL-terminated");
		return -EINVAL;
	}
	if (strcmp(a->overlay_format, "qcow2")) {
		xvm_hv_set_error("disk_snapshot: an overlay is a qcow2 image (a format that records its backing "
				 "file), not '%s'", a->overlay_format);
		return -EINVAL;
	}
	memcpy(ov.path, a->overlay_path, sizeof ov.path);
	memcpy(ov.format, a->overlay_format, sizeof ov.format);
	*ret = ov;
	return 0;
}

int hv_snapshot_check(uint32_t domid, const struct xvm_hc_disk_config *d, const struct xvm_hc_disk_config *ov)
{
	if (d->kind != XVM_HC_DISK) {
		xvm_hv_set_error("position %u of domain %u is a CD drive; only disks are snapshotted", d->position,
				 domid);
		return -EINVAL;
	}
	if (d->read_only) {
		xvm_hv_set_error("disk %u of domain %u is read-only: its image does not change, copy it as it is",
				 d->position, domid);
		return -EINVAL;
	}
	if (!strcmp(d->path, ov->path) || hv_same_image(d->path, ov->path)) {
		xvm_hv_set_error("disk %u of domain %u already uses %s; the overlay must be a new image",
				 d->position, domid, ov->path);
		return -EINVAL;
	}
	return 0;
}

int hv_overlay_check(const struct xvm_hc_disk_config *d, uint64_t size, const char *overlay,
		     const struct hv_image *img)
{
	const char *format = *d->format ? d->format : "raw";

	if (strcmp(img->format, "qcow2")) {
		xvm_hv_set_error("overlay %s is a %s image, not qcow2", overlay, *img->format ? img->format : "raw");
		return -EINVAL;
	}
	if (!*img->backing) {
		xvm_hv_set_error("overlay %s has no backing file; it must be the disk's image %s", overlay, d->path);
		return -EINVAL;
	}
	if (!hv_same_image(img->backing, d->path)) {
		xvm_hv_set_error("overlay %s has %s as its backing file, not the disk's image %s", overlay, img->backing,
				 d->path);
		return -EINVAL;
	}
	if (strcmp(img->backing_format, format)) {
		xvm_hv_set_error("overlay %s records %s as its backing file's format, not %s: create it with -F %s",
				 overlay, *img->backing_format ? img->backing_format : "nothing", format, format);
		return -EINVAL;
	}
	if (size && img->size != size) {
		xvm_hv_set_error("overlay %s has %" PRIu64 " bytes; the disk has %" PRIu64 " (a snapshot must not "
				 "change the size the guest sees)", overlay, img->size, size);
		return -EINVAL;
	}
	return 0;
}
