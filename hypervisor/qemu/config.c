/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A domain config: the checks made before any QEMU is started (so that a
 * missing kernel or firmware is -ENOENT with a clear detail, not a QEMU
 * error), and its JSON form, which the domain record and the save-file
 * header carry so that a later process can re-adopt or restore the domain.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config_check.h"
#include "qemu.h"
#include "url.h"

static int file_check(const char *what, const char *path)
{
	if (access(path, R_OK) < 0) {
		int r = -errno;
		xvm_hv_set_error("%s %s: %s", what, path, strerror(-r));
		return r;
	}
	return 0;
}

int qemu_disk_check(const struct xvm_hc_disk_config *d)
{
	static const char *const formats[] = { "", "raw", "qcow2", "vmdk", "vpc", "vhdx", "vdi", "qed", NULL };
	int r = hv_disk_check(d);

	if (r < 0)
		return r;
	if (!hv_one_of(d->format, formats)) {
		xvm_hv_set_error("disk %u: unknown image format '%s'", d->position, d->format);
		return -EINVAL;
	}
	/* QEMU opens a URL itself, over the network: there is nothing here to look at. */
	if (!*d->path || hv_path_is_url(d->path))
		return 0;
	return file_check(d->kind == XVM_HC_CDROM ? "CD image" : "disk image", d->path);
}

int qemu_ovmf_paths(bool secure_boot, char code[PATH_MAX], char vars[PATH_MAX])
{
	static const char *const pairs[][2] = {
		{ "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd" },
		{ "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
	};
	/* The SMM build, and variables with Microsoft's keys enrolled: secure boot is on from the first boot. */
	static const char *const secure[][2] = {
		{ "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
	};
	size_t n = secure_boot ? sizeof secure / sizeof secure[0] : sizeof pairs / sizeof pairs[0];

	for (size_t i = 0; i < n; i++) {
		const char *const *p = secure_boot ? secure[i] : pairs[i];
		if (access(p[0], R_OK) == 0 && access(p[1], R_OK) == 0) {
			snprintf(code, PATH_MAX, "%s", p[0]);
			snprintf(vars, PATH_MAX, "%s", p[1]);
			return 0;
		}
	}
	xvm_hv_set_error(secure_boot ? "secure boot needs OVMF's secboot build and enrolled keys "
				       "(/usr/share/OVMF/OVMF_CODE_4M.secboot.fd, OVMF_VARS_4M.ms.fd): install the ovmf package"
				     : "UEFI firmware needs OVMF, which is not installed (no /usr/share/OVMF/OVMF_CODE*.fd): "
				       "install the ovmf package");
	return -ENOENT;
}

/* QEMU reads the boot files itself, so they must be readable, and UEFI needs OVMF. */
static int boot_check(const struct xvm_hc_domain_config *c)
{
	char code[PATH_MAX], vars[PATH_MAX];
	int r;

	if ((r = hv_boot_check(c)) < 0)
		return r;
	if (c->boot == XVM_HC_BOOT_DIRECT_KERNEL) {
		if ((r = file_check("kernel", c->kernel)) < 0)
			return r;
		if (*c->ramdisk && (r = file_check("ramdisk", c->ramdisk)) < 0)
			return r;
	}
	if (!strcmp(c->firmware, "uefi"))
		return qemu_ovmf_paths(c->secure_boot, code, vars);
	return 0;
}

int qemu_config_check(const struct xvm_hc_domain_config *c, const struct qemu_host *host)
{
	char swtpm[PATH_MAX];
	int r;

	if ((r = hv_config_check(c, host->max_vcpus)) < 0)
		return r;
	/* QEMU wants whole MiB and the firmware needs a few of them. */
	if (c->memory_static_max_kib < 16384 || c->memory_static_max_kib % 1024 || !c->memory_target_kib ||
	    c->memory_target_kib > c->memory_static_max_kib) {
		xvm_hv_set_error("memory: static max %" PRIu64 " KiB must be whole MiB, at least 16 MiB, "
				 "and the target %" PRIu64 " KiB in 1..static max",
				 c->memory_static_max_kib, c->memory_target_kib);
		return -EINVAL;
	}
	if ((r = hv_affinity_check(c, qemu_host_cpumask(host), host->cpu_count)) < 0 ||
	    (r = boot_check(c)) < 0 || (*c->vtpm_dir && (r = qemu_swtpm_binary(swtpm)) < 0))
		return r;
	return hv_devices_check(c, qemu_disk_check, hv_nic_check);
}

/* --- JSON ------------------------------------------------------------- */

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

struct json_object *qemu_config_to_json(const struct xvm_hc_domain_config *c)
{
	struct json_object *o = json_object_new_object(), *disks = json_object_new_array();
	struct json_object *nics = json_object_new_array(), *aff = json_object_new_array();

	add_str(o, "uuid", c->uuid);
	add_str(o, "name", c->name);
	add_int(o, "vcpus_max", c->vcpus_max);
	add_int(o, "vcpus_online", c->vcpus_online);
	add_int(o, "memory_static_max_kib", (int64_t)c->memory_static_max_kib);
	add_int(o, "memory_target_kib", (int64_t)c->memory_target_kib);
	add_str(o, "boot", c->boot == XVM_HC_BOOT_DIRECT_KERNEL ? "kernel" : "hvm");
	add_str(o, "firmware", c->firmware);
	add_str(o, "boot_order", c->boot_order);
	add_str(o, "machine", c->machine);
	json_object_object_add(o, "acpi", json_object_new_boolean(c->acpi));
	add_str(o, "kernel", c->kernel);
	add_str(o, "ramdisk", c->ramdisk);
	add_str(o, "cmdline", c->cmdline);
	add_str(o, "vtpm_dir", c->vtpm_dir);
	for (uint32_t i = 0; i < c->ndisks && i < XVM_HC_MAX_DISKS; i++) {
		const struct xvm_hc_disk_config *d = &c->disks[i];
		struct json_object *j = json_object_new_object();
		add_str(j, "path", d->path);
		add_str(j, "format", d->format);
		add_str(j, "kind", d->kind == XVM_HC_CDROM ? "cdrom" : "disk");
		add_int(j, "position", d->position);
		json_object_object_add(j, "read_only", json_object_new_boolean(d->read_only));
		json_object_object_add(j, "bootable", json_object_new_boolean(d->bootable));
		json_object_array_add(disks, j);
	}
	json_object_object_add(o, "disks", disks);
	for (uint32_t i = 0; i < c->nnics && i < XVM_HC_MAX_NICS; i++) {
		struct json_object *j = json_object_new_object();
		add_str(j, "mac", c->nics[i].mac);
		add_str(j, "bridge", c->nics[i].bridge);
		add_int(j, "position", c->nics[i].position);
		add_int(j, "mtu", c->nics[i].mtu);
		add_str(j, "model", c->nics[i].model == XVM_HC_NIC_E1000 ? "e1000" : "virtio");
		json_object_object_add(j, "managed_bridge", json_object_new_boolean(c->nics[i].managed_bridge));
		json_object_array_add(nics, j);
	}
	json_object_object_add(o, "nics", nics);
	for (uint32_t v = 0; v < c->vcpus_max && v < XVM_HC_MAX_VCPUS; v++)
		json_object_array_add(aff, json_object_new_uint64(c->vcpu_affinity[v]));
	json_object_object_add(o, "vcpu_affinity", aff);
	return o;
}

/* Strict: a field of the wrong type or too long makes the whole record invalid. */
static bool get_str(struct json_object *o, const char *k, char *out, size_t size)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	if (strlen(s) >= size)
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

static bool get_u64(struct json_object *o, const char *k, uint64_t max, uint64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_uint64(v);
	return *out <= max;
}

static bool get_u32(struct json_object *o, const char *k, uint32_t *out)
{
	uint64_t v;

	if (!get_u64(o, k, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool get_bool(struct json_object *o, const char *k, bool *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static bool get_array(struct json_object *o, const char *k, size_t max, struct json_object **out)
{
	return json_object_object_get_ex(o, k, out) && json_object_is_type(*out, json_type_array) &&
	       json_object_array_length(*out) <= max;
}

static bool disks_from_json(struct json_object *a, struct xvm_hc_domain_config *c)
{
	char kind[8];

	c->ndisks = json_object_array_length(a);
	for (uint32_t i = 0; i < c->ndisks; i++) {
		struct json_object *j = json_object_array_get_idx(a, i);
		struct xvm_hc_disk_config *d = &c->disks[i];
		if (!get_str(j, "path", d->path, sizeof d->path) ||
		    !get_str(j, "format", d->format, sizeof d->format) ||
		    !get_str(j, "kind", kind, sizeof kind) || !get_u32(j, "position", &d->position) ||
		    !get_bool(j, "read_only", &d->read_only) || !get_bool(j, "bootable", &d->bootable))
			return false;
		d->kind = strcmp(kind, "cdrom") ? XVM_HC_DISK : XVM_HC_CDROM;
	}
	return true;
}

static bool nics_from_json(struct json_object *a, struct xvm_hc_domain_config *c)
{
	char model[8];

	c->nnics = json_object_array_length(a);
	for (uint32_t i = 0; i < c->nnics; i++) {
		struct json_object *j = json_object_array_get_idx(a, i);
		struct xvm_hc_nic_config *n = &c->nics[i];
		if (!get_str(j, "mac", n->mac, sizeof n->mac) || !get_str(j, "bridge", n->bridge, sizeof n->bridge) ||
		    !get_u32(j, "position", &n->position) || !get_u32(j, "mtu", &n->mtu) ||
		    !get_str(j, "model", model, sizeof model) || !get_bool(j, "managed_bridge", &n->managed_bridge))
			return false;
		n->model = strcmp(model, "e1000") ? XVM_HC_NIC_VIRTIO : XVM_HC_NIC_E1000;
	}
	return true;
}

int qemu_config_from_json(struct json_object *o, struct xvm_hc_domain_config *out)
{
	static struct xvm_hc_domain_config zero;
	struct xvm_hc_domain_config *c = out;
	struct json_object *disks, *nics, *aff;
	char boot[8];

	*c = zero;
	if (!json_object_is_type(o, json_type_object) || !get_str(o, "uuid", c->uuid, sizeof c->uuid) ||
	    !get_str(o, "name", c->name, sizeof c->name) || !get_u32(o, "vcpus_max", &c->vcpus_max) ||
	    !get_u32(o, "vcpus_online", &c->vcpus_online) ||
	    !get_u64(o, "memory_static_max_kib", UINT64_MAX, &c->memory_static_max_kib) ||
	    !get_u64(o, "memory_target_kib", UINT64_MAX, &c->memory_target_kib) ||
	    !get_str(o, "boot", boot, sizeof boot) || !get_str(o, "firmware", c->firmware, sizeof c->firmware) ||
	    !get_str(o, "boot_order", c->boot_order, sizeof c->boot_order) ||
	    !get_str(o, "machine", c->machine, sizeof c->machine) || !get_bool(o, "acpi", &c->acpi) ||
	    !get_str(o, "kernel", c->kernel, sizeof c->kernel) ||
	    !get_str(o, "ramdisk", c->ramdisk, sizeof c->ramdisk) ||
	    !get_str(o, "cmdline", c->cmdline, sizeof c->cmdline) ||
	    /* Records written before vTPMs have none. */
	    (json_object_object_get_ex(o, "vtpm_dir", NULL) && !get_str(o, "vtpm_dir", c->vtpm_dir, sizeof c->vtpm_dir)) ||
	    !get_array(o, "disks", XVM_HC_MAX_DISKS, &disks) || !disks_from_json(disks, c) ||
	    !get_array(o, "nics", XVM_HC_MAX_NICS, &nics) || !nics_from_json(nics, c) ||
	    !get_array(o, "vcpu_affinity", XVM_HC_MAX_VCPUS, &aff) || c->vcpus_max > XVM_HC_MAX_VCPUS) {
		xvm_hv_set_error("the domain config record is malformed");
		return -EINVAL;
	}
	c->boot = strcmp(boot, "kernel") ? XVM_HC_BOOT_HVM : XVM_HC_BOOT_DIRECT_KERNEL;
	for (size_t v = 0; v < json_object_array_length(aff); v++)
		c->vcpu_affinity[v] = json_object_get_uint64(json_object_array_get_idx(aff, v));
	return 0;
}
