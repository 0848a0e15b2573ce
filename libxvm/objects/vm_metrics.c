/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VM_metrics: figures of a VM's current (or last) run. */
#include "objects/class.h"

#include "core/engine.h"
#include "hypercall.h"
#include "store/store.h"

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

/* The domains of running VMs by their metrics reference: the live figures
 * (the balloon moves on its own) come from the hypervisor at each read. */
static struct json_object *running_domains(struct engine *e)
{
	sqlite3_stmt *st = store_stmt(e->store, "SELECT metrics, domid FROM VM WHERE domid >= 0");
	if (!st)
		return NULL;
	struct json_object *map = json_object_new_object();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_object_add(map, (const char *)sqlite3_column_text(st, 0),
				       json_object_new_int64(sqlite3_column_int64(st, 1)));
	sqlite3_reset(st);
	return map;
}

static void live_figures(struct engine *e, struct json_object *domains, const char *ref, struct json_object *rec)
{
	struct json_object *domid;
	if (!domains || !json_object_object_get_ex(domains, ref, &domid))
		return;
	struct xvm_hc_domain_info info = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)json_object_get_int64(domid) };
	if (xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, &info) < 0 || info.state == XVM_HC_STATE_SHUTDOWN)
		return; /* the last recorded figures stand */
	json_object_object_add(rec, "memory_actual", json_object_new_int64((int64_t)info.memory_actual_kib * 1024));
	json_object_object_add(rec, "VCPUs_number", json_object_new_int64(info.vcpus_online));
}

const struct class_def class_vm_metrics = {
	.info = { .name = "VM_metrics", .description = "Metrics of a VM" },
	.fields = vm_metrics_fields,
	.compute_context = running_domains,
	.compute = live_figures,
	.compute_refreshes_stored = true,
};
