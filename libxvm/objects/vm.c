/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM class: fields, defaults and the record-wide rules. */
#include "objects/vm.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/allowed_ops.h"
#include "lifecycle/inflight.h"
#include "objects/class.h"

static const char *const power_states[] = { "Halted", "Paused", "Running", "Suspended", NULL };
static const char *const after_shutdown[] = { "destroy", "restart", NULL };
static const char *const after_crash[] = { "destroy", "coredump_and_destroy", "restart",
					    "coredump_and_restart", "preserve", "rename_restart", NULL };
static const char *const domain_types[] = { "hvm", "pv", "pv_in_pvh", "pvh", "unspecified", NULL };

const char *const operations_vm[] = {
	"snapshot", "clone", "copy", "checkpoint", "provision", "start", "start_on", "pause",
	"unpause", "clean_shutdown", "clean_reboot", "hard_shutdown", "power_state_reset",
	"hard_reboot", "suspend", "resume", "resume_on", "pool_migrate", "migrate_send",
	"changing_memory_live", "changing_VCPUs_live", "make_into_template", "export", "destroy",
	"revert", "create_vtpm", NULL
};

static const struct field_def vm_fields[] = {
	UUID_FIELD,
	{ ALLOWED_OPS(operations_vm) },
	{ CURRENT_OPS, .flags = FIELD_COMPUTED },
	NAME_FIELDS,
	{ ENUM("power_state", power_states, Q_RO, "Current power state"), .default_json = "\"Halted\"" },
	{ INT("user_version", Q_RW, "Creator-defined version number"), .default_json = "1" },
	{ BOOL("is_a_template", Q_RW, "True if this is a template; templates cannot be started"),
	  .flags = FIELD_HALTED_ONLY },
	{ BOOL("is_default_template", Q_RO, "True for the built-in templates, which cannot be destroyed") },
	{ REF("suspend_VDI", "VDI", Q_RO, "The VDI holding the suspended memory image") },
	{ REF("resident_on", "host", Q_RO, "The host the VM runs on") },
	{ REF("affinity", "host", Q_RW, "The host the VM prefers to run on") },
	{ INT("memory_overhead", Q_RO, "Virtualisation overhead in bytes") },
	{ INT("memory_target", Q_RO, "Dynamic memory target in bytes") },
	{ INT("memory_static_max", Q_RW, "Most memory the guest may ever have, bytes"),
	  .default_json = "268435456", .flags = FIELD_HALTED_ONLY },
	{ INT("memory_dynamic_max", Q_RW, "Dynamic memory upper bound, bytes"), .default_json = "268435456" },
	{ INT("memory_dynamic_min", Q_RW, "Dynamic memory lower bound, bytes"), .default_json = "268435456" },
	{ INT("memory_static_min", Q_RW, "Least memory the guest needs, bytes"),
	  .default_json = "134217728", .flags = FIELD_HALTED_ONLY },
	{ MAP("VCPUs_params", Q_RW, "vCPU scheduling parameters, e.g. mask=0,1") },
	{ INT("VCPUs_max", Q_RW, "Most vCPUs the VM may have"), .default_json = "1", .flags = FIELD_HALTED_ONLY },
	{ INT("VCPUs_at_startup", Q_RW, "vCPUs online at start"), .default_json = "1", .flags = FIELD_HALTED_ONLY },
	{ ENUM("actions_after_shutdown", after_shutdown, Q_RW, "What to do when the guest shuts down"),
	  .default_json = "\"destroy\"" },
	{ ENUM("actions_after_reboot", after_shutdown, Q_RW, "What to do when the guest reboots"),
	  .default_json = "\"restart\"" },
	{ ENUM("actions_after_crash", after_crash, Q_RW, "What to do when the guest crashes"),
	  .default_json = "\"restart\"" },
	{ REVERSE("VIFs", "VIF", "VM", "Virtual network interfaces") },
	{ REVERSE("VBDs", "VBD", "VM", "Virtual block devices") },
	{ REVERSE("VTPMs", "VTPM", "VM", "Virtual TPMs") },
	{ REVERSE("consoles", "console", "VM", "Consoles of the running VM") },
	{ STR("PV_bootloader", Q_RW, "Bootloader for PV-style boot") },
	{ STR("PV_kernel", Q_RW, "Path to the kernel for direct kernel boot") },
	{ STR("PV_ramdisk", Q_RW, "Path to the initrd for direct kernel boot") },
	{ STR("PV_args", Q_RW, "Kernel command line for direct kernel boot") },
	{ STR("PV_bootloader_args", Q_RW, "Arguments to the bootloader") },
	{ STR("PV_legacy_args", Q_RW, "Legacy kernel arguments") },
	{ STR("HVM_boot_policy", Q_RW, "HVM boot policy; empty for direct kernel boot"),
	  .default_json = "\"BIOS order\"" },
	{ MAP("HVM_boot_params", Q_RW, "HVM boot parameters: order, firmware") },
	{ FLOAT("HVM_shadow_multiplier", Q_RW, "Shadow memory multiplier"), .default_json = "1.0" },
	{ MAP("platform", Q_RW, "Platform flags: acpi, machine, ...") },
	{ STR("PCI_bus", Q_RW, "PCI bus path for pass-through devices") },
	OTHER_CONFIG,
	{ INT("domid", Q_RO, "Domain ID while running, else -1"), .default_json = "-1" },
	{ STR("domarch", Q_RO, "Domain architecture while running") },
	{ MAP("last_boot_CPU_flags", Q_RO, "CPU flags the VM was last booted with") },
	{ BOOL("is_control_domain", Q_RO, "True for the control domain") },
	{ REF("metrics", "VM_metrics", Q_RO, "Metrics of the VM") },
	{ STR("last_booted_record", Q_RO, "The VM record as of its last boot") },
	{ STR("recommendations", Q_RW, "XML of recommended limits: memory, vCPUs") },
	{ MAP("xenstore_data", Q_RW, "Data for the guest's configuration store") },
	{ BOOL("ha_always_run", Q_RW, "Restart the VM if its host fails") },
	{ STR("ha_restart_priority", Q_RW, "HA restart priority") },
	TAGS,
	{ MAP("blocked_operations", Q_RW, "Operations blocked by the user: operation -> reason") },
	{ REF("snapshot_of", "VM", Q_RO, "The VM this is a snapshot of") },
	{ REVERSE("snapshots", "VM", "snapshot_of", "Snapshots of this VM") },
	{ TIME("snapshot_time", Q_RO, "When the snapshot was taken") },
	{ BOOL("is_a_snapshot", Q_RO, "True if this is a snapshot") },
	{ REF("parent", "VM", Q_RO, "The snapshot this VM was made from") },
	{ REVERSE("children", "VM", "parent", "VMs made from this snapshot") },
	{ MAP("bios_strings", Q_RO, "BIOS strings") },
	{ INT("start_delay", Q_RW, "Seconds to wait after starting the VM in a group") },
	{ INT("shutdown_delay", Q_RW, "Seconds to wait after shutting down the VM in a group") },
	{ INT("order", Q_RW, "Start order in a group") },
	{ ENUM("domain_type", domain_types, Q_RW, "Kind of domain: hvm, pv, ..."),
	  .default_json = "\"hvm\"", .flags = FIELD_HALTED_ONLY },
	FIELDS_END
};

int vm_check_constraints(const char *ref, struct json_object *rec)
{
	int64_t smin = rec_int(rec, "memory_static_min"), dmin = rec_int(rec, "memory_dynamic_min");
	int64_t dmax = rec_int(rec, "memory_dynamic_max"), smax = rec_int(rec, "memory_static_max");
	if (!(smin <= dmin && dmin <= dmax && dmax <= smax))
		return ERR1(XVM_ERR_MEMORY_CONSTRAINT_VIOLATION,
			    "static_min <= dynamic_min <= dynamic_max <= static_max",
			    "memory constraints violated: static_min %" PRId64 " <= dynamic_min %" PRId64
			    " <= dynamic_max %" PRId64 " <= static_max %" PRId64 " does not hold",
			    smin, dmin, dmax, smax);
	if (smin <= 0)
		return ERR2(XVM_ERR_INVALID_VALUE, "memory_static_min", "0",
			    "memory_static_min must be positive");
	int64_t vmax = rec_int(rec, "VCPUs_max"), vstart = rec_int(rec, "VCPUs_at_startup");
	if (vmax < 1 || vstart < 1 || vstart > vmax) {
		char v[24];
		snprintf(v, sizeof(v), "%" PRId64, vstart);
		return ERR2(XVM_ERR_INVALID_VALUE, "VCPUs_at_startup", v,
			    "VCPUs_at_startup (%" PRId64 ") must be between 1 and VCPUs_max (%" PRId64 ")",
			    vstart, vmax);
	}
	return 0;
}

static int vm_check(struct engine *e, const char *ref, struct json_object *rec)
{
	if (rec_bool(rec, "is_default_template") && !rec_bool(rec, "is_a_template"))
		return ERR1(XVM_ERR_VM_IS_TEMPLATE, ref, "%s is a built-in template: it stays a template",
			    rec_str(rec, "name_label"));
	return vm_check_constraints(ref, rec);
}

static struct json_object *vm_compute_context(struct engine *e)
{
	struct json_object *by_object = NULL;
	return inflight_read(e, &by_object, NULL) == 0 ? by_object : NULL;
}

static void vm_compute(struct engine *e, struct json_object *inflight, const char *ref, struct json_object *rec)
{
	struct json_object *ops;
	json_object_object_add(rec, "current_operations",
			       inflight && json_object_object_get_ex(inflight, ref, &ops) ? json_object_get(ops)
											: json_object_new_object());
	allowed_ops_fill_vm(rec);
}

const struct class_def class_vm = {
	.info = { .name = "VM", .description = "A virtual machine, a template or a snapshot" },
	.fields = vm_fields,
	.compute_context = vm_compute_context,
	.compute = vm_compute,
	.check = vm_check,
};
