/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host class: this machine, as the hypervisor reports it. */
#include "objects/class.h"
#include "core/engine.h"

static const char *const host_operations[] = { "provision", "evacuate", "shutdown", "reboot",
						"power_on", "vm_start", "vm_resume", "vm_migrate", NULL };

static const struct field_def host_fields[] = {
	UUID_FIELD,
	NAME_FIELDS,
	{ ALLOWED_OPS(host_operations) },
	{ CURRENT_OPS },
	{ INT("API_version_major", Q_RO, "Major version of the API"), .default_json = "2" },
	{ INT("API_version_minor", Q_RO, "Minor version of the API"), .default_json = "21" },
	{ STR("API_version_vendor", Q_RO, "Vendor of the API"), .default_json = "\"xvm\"" },
	{ MAP("software_version", Q_RO, "Software versions: product, xvm, hypervisor backend") },
	OTHER_CONFIG,
	{ SET_STR("capabilities", Q_RO, "What the hypervisor can run: hvm, pv, accel") },
	{ MAP("cpu_configuration", Q_RO, "CPU configuration") },
	{ STR("sched_policy", Q_RO, "Scheduler policy") },
	{ SET_STR("supported_bootloaders", Q_RO, "Bootloaders the host offers") },
	{ REVERSE_UNINDEXED("resident_VMs", "VM", "resident_on", "VMs running on the host") },
	{ MAP("logging", Q_RW, "Logging configuration") },
	{ REF("suspend_image_sr", "SR", Q_RW, "SR for suspend images") },
	{ REF("crash_dump_sr", "SR", Q_RW, "SR for crash dumps") },
	{ REVERSE("PBDs", "PBD", "host", "Storage connections of the host") },
	{ STR("hostname", Q_RO, "Host name") },
	{ STR("address", Q_RO, "Management address") },
	{ MAP("cpu_info", Q_RO, "CPU facts: cpu_count, modelname") },
	{ BOOL("enabled", Q_RO, "True if new VMs may start here"), .default_json = "true" },
	{ INT("memory_overhead", Q_RO, "Memory the host keeps for itself, bytes") },
	{ INT("memory_total", Q_RO, "Total memory, bytes (xvm: from the hypervisor)"), .flags = FIELD_COMPUTED },
	{ INT("memory_free", Q_RO, "Memory free for VMs, bytes (xvm: from the hypervisor)"), .flags = FIELD_COMPUTED },
	{ STR("edition", Q_RO, "Product edition"), .default_json = "\"free\"" },
	TAGS,
	FIELDS_END
};

static void host_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec)
{
	struct host_memory mem;
	if (engine_host_memory(e, &mem) < 0)
		mem = (struct host_memory){ 0 };
	json_object_object_add(rec, "memory_total", json_object_new_int64((int64_t)mem.total_bytes));
	json_object_object_add(rec, "memory_free", json_object_new_int64((int64_t)mem.free_bytes));
	json_object_object_add(rec, "allowed_operations", json_object_new_array());
}

const struct class_def class_host = {
	.info = { .name = "host", .description = "A physical host" },
	.fields = host_fields,
	.compute = host_compute,
};
