/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VM_metrics: figures of a VM's current (or last) run. */
#include "objects/class.h"

static const struct field_def vm_metrics_fields[] = {
	UUID_FIELD,
	{ INT("memory_actual", Q_RO, "Memory the guest has now, bytes") },
	{ INT("VCPUs_number", Q_RO, "vCPUs the guest has now") },
	{ MAP("VCPUs_utilisation", Q_RO, "Utilisation per vCPU") },
	{ MAP("VCPUs_CPU", Q_RO, "Host CPU each vCPU is pinned to") },
	{ MAP("VCPUs_params", Q_RO, "vCPU scheduling parameters in force") },
	{ SET_STR("state", Q_RO, "Run state flags") },
	{ TIME("start_time", Q_RO, "When the VM last started") },
	{ TIME("install_time", Q_RO, "When the VM was installed") },
	{ TIME("last_updated", Q_RO, "When these figures were last updated") },
	{ BOOL("hvm", Q_RO, "True if the VM runs in HVM mode") },
	{ BOOL("nomigrate", Q_RO, "True if the VM cannot be migrated") },
	{ STR("current_domain_type", Q_RO, "The domain type of the current run") },
	OTHER_CONFIG,
	FIELDS_END
};

const struct class_def class_vm_metrics = {
	.info = { .name = "VM_metrics", .description = "Metrics of a VM" },
	.fields = vm_metrics_fields,
};
