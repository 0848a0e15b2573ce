/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/domain_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/xvm_boot.h"
#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/util.h"
#include "lifecycle/vtpm.h"
#include "network/network.h"
#include "storage/storage.h"

static const char *map_get(struct json_object *rec, const char *map, const char *key)
{
	struct json_object *m, *v;
	if (!json_object_object_get_ex(rec, map, &m) || !json_object_object_get_ex(m, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int copy_str(char *dst, size_t size, const char *src, const char *ref, const char *field)
{
	if (strlen(src) >= size)
		return ERR2(XVM_ERR_INVALID_VALUE, field, src, "%s of VM %s is too long (at most %zu bytes)",
			    field, ref, size - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* VCPUs_params:mask is a comma-separated list of host CPUs, as in XenServer. */
static int parse_mask(const char *ref, const char *text, uint32_t host_cpus, uint64_t *mask)
{
	*mask = 0;
	char *copy = strdup(text), *save = NULL;
	int r = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int64_t cpu;
		if (parse_int64(tok, &cpu) < 0 || cpu < 0 || cpu >= 64 || cpu >= host_cpus) {
			r = ERR2(XVM_ERR_INVALID_VALUE, "VCPUs_params:mask", text,
				 "VCPUs_params:mask of VM %s must list host CPUs 0..%u separated by commas, not '%s'",
				 ref, host_cpus - 1, text);
			break;
		}
		*mask |= 1ull << cpu;
	}
	free(copy);
	return r;
}

/* platform:KEY as true/false (absent: false). */
static int platform_flag(const char *ref, struct json_object *rec, const char *key, bool *out)
{
	const char *v = map_get(rec, "platform", key);
	*out = v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
	if (!v || *out || strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || !*v)
		return 0;
	char field[48];
	snprintf(field, sizeof(field), "platform:%s", key);
	return ERR2(XVM_ERR_VALUE_NOT_SUPPORTED, field, v, "%s of VM %s is true or false, not '%s'", field, ref, v);
}

/* platform:secureboot (UEFI on q35 only), viridian, usb_tablet. */
static int platform_flags(const char *ref, struct json_object *rec, struct xvm_hc_domain_config *cfg)
{
	int r;
	if ((r = platform_flag(ref, rec, "secureboot", &cfg->secure_boot)) < 0 ||
	    (r = platform_flag(ref, rec, "viridian", &cfg->viridian)) < 0 ||
	    (r = platform_flag(ref, rec, "usb_tablet", &cfg->usb_tablet)) < 0)
		return r;
	if (cfg->secure_boot && (strcmp(cfg->firmware, "uefi") != 0 || strcmp(cfg->machine, "q35") != 0))
		return ERR2(XVM_ERR_VALUE_NOT_SUPPORTED, "platform:secureboot", "true",
			    "VM %s: secure boot needs HVM_boot_params:firmware=uefi and platform:machine=q35", ref);
	return 0;
}

/* Checked for every VM, booted by firmware or not: a typo is an error
 * wherever it stands. */
static int firmware(const char *ref, struct json_object *rec, struct xvm_hc_domain_config *cfg)
{
	const char *fw = map_get(rec, "HVM_boot_params", "firmware");
	if (!fw || !*fw)
		fw = "bios";
	if (strcmp(fw, "bios") != 0 && strcmp(fw, "uefi") != 0)
		return ERR2(XVM_ERR_VALUE_NOT_SUPPORTED, "HVM_boot_params:firmware", fw,
			    "unknown firmware '%s' for VM %s: use bios or uefi", fw, ref);
	snprintf(cfg->firmware, sizeof(cfg->firmware), "%s", fw);
	return 0;
}

static int hvm_settings(const char *ref, struct json_object *rec, struct xvm_hc_domain_config *cfg)
{
	const char *order = map_get(rec, "HVM_boot_params", "order");
	if (!order || !*order)
		order = "cd";
	if (strlen(order) >= sizeof(cfg->boot_order) || strspn(order, "cdn") != strlen(order))
		return ERR2(XVM_ERR_VALUE_NOT_SUPPORTED, "HVM_boot_params:order", order,
			    "boot order '%s' of VM %s: use the letters c (disk), d (CD) and n (network)", order, ref);
	snprintf(cfg->boot_order, sizeof(cfg->boot_order), "%s", order);
	return 0;
}

int domain_config_from_vm(struct engine *e, const char *ref, struct json_object *rec,
			  struct xvm_hc_domain_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	struct xvm_hc_host_info host = { .head = XVM_HC_HEAD(0) };
	int r = xvm_hypercall(e->hv, XVM_HC_HOST_INFO, &host);
	if (r < 0)
		return engine_hv_error(e, r, "host info", ref);

	snprintf(cfg->uuid, sizeof(cfg->uuid), "%s", rec_str(rec, "uuid"));
	snprintf(cfg->name, sizeof(cfg->name), "%s", rec_str(rec, "name_label"));
	int64_t vmax = rec_int(rec, "VCPUs_max");
	if (vmax > host.max_vcpus_per_domain || vmax > XVM_HC_MAX_VCPUS) {
		char n[24], m[24];
		snprintf(n, sizeof(n), "%lld", (long long)vmax);
		snprintf(m, sizeof(m), "%u", host.max_vcpus_per_domain);
		return ERR3(XVM_ERR_VM_TOO_MANY_VCPUS, ref, n, m,
			    "VM %s has VCPUs_max %s; this host allows at most %s per VM", ref, n, m);
	}
	cfg->vcpus_max = (uint32_t)vmax;
	cfg->vcpus_online = (uint32_t)rec_int(rec, "VCPUs_at_startup");
	/* Guests get whole MiB: QEMU sizes RAM and the balloon in MiB. */
	cfg->memory_static_max_kib = (uint64_t)rec_int(rec, "memory_static_max") / (1024 * 1024) * 1024;
	cfg->memory_target_kib = (uint64_t)rec_int(rec, "memory_dynamic_max") / (1024 * 1024) * 1024;
	if (cfg->memory_static_max_kib > host.memory_free_kib) {
		char need[24], have[24];
		snprintf(need, sizeof(need), "%llu", (unsigned long long)cfg->memory_static_max_kib * 1024);
		snprintf(have, sizeof(have), "%llu", (unsigned long long)host.memory_free_kib * 1024);
		return ERR2(XVM_ERR_HOST_NOT_ENOUGH_FREE_MEMORY, need, have,
			    "VM %s needs %s bytes of memory; the host has %s free", ref, need, have);
	}

	const char *machine = map_get(rec, "platform", "machine");
	if (!machine || !*machine)
		machine = "q35";
	if (strcmp(machine, "q35") != 0 && strcmp(machine, "pc") != 0)
		return ERR2(XVM_ERR_VALUE_NOT_SUPPORTED, "platform:machine", machine,
			    "unknown machine '%s' for VM %s: use q35 or pc", machine, ref);
	snprintf(cfg->machine, sizeof(cfg->machine), "%s", machine);
	const char *acpi = map_get(rec, "platform", "acpi");
	cfg->acpi = !acpi || !(strcmp(acpi, "false") == 0 || strcmp(acpi, "0") == 0);

	if ((r = firmware(ref, rec, cfg)) < 0 || (r = platform_flags(ref, rec, cfg)) < 0)
		return r;
	const char *kernel = rec_str(rec, "PV_kernel");
	/* xvm-boot takes the kernel from the boot disk, once the disks are known. */
	bool xvm_boot = strcmp(rec_str(rec, "PV_bootloader"), XVM_BOOT_NAME) == 0;
	if (*kernel && !xvm_boot) {
		cfg->boot = XVM_HC_BOOT_DIRECT_KERNEL;
		if ((r = copy_str(cfg->kernel, sizeof(cfg->kernel), kernel, ref, "PV_kernel")) < 0 ||
		    (r = copy_str(cfg->ramdisk, sizeof(cfg->ramdisk), rec_str(rec, "PV_ramdisk"), ref,
				  "PV_ramdisk")) < 0 ||
		    (r = copy_str(cfg->cmdline, sizeof(cfg->cmdline), rec_str(rec, "PV_args"), ref,
				  "PV_args")) < 0)
			return r;
	} else if (!xvm_boot) {
		cfg->boot = XVM_HC_BOOT_HVM;
		if ((r = hvm_settings(ref, rec, cfg)) < 0)
			return r;
	}

	/* A suspended VM resumes with the drives it had when it was saved. */
	bool resuming = strcmp(rec_str(rec, "power_state"), "Suspended") == 0;
	if ((r = vm_disks_config(e, ref, resuming, cfg)) < 0 || (r = vm_nics_config(e, ref, resuming, cfg)) < 0)
		return r;
	if (xvm_boot && (r = xvm_boot_prepare(e, ref, rec, cfg)) < 0)
		return r;
	if ((r = vtpm_domain_config(e, ref, cfg)) < 0)
		return r;

	const char *mask = map_get(rec, "VCPUs_params", "mask");
	if (mask && *mask) {
		uint64_t bits;
		if ((r = parse_mask(ref, mask, host.cpu_count, &bits)) < 0)
			return r;
		for (uint32_t i = 0; i < cfg->vcpus_max; i++)
			cfg->vcpu_affinity[i] = bits;
	}
	return 0;
}
