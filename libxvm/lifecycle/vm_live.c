/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vm_live.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "hypercall.h"
#include "lifecycle/vm_op.h"

static int out_of_range(const char *field, int64_t v, int64_t lo, int64_t hi)
{
	char text[24];
	snprintf(text, sizeof(text), "%" PRId64, v);
	return ERR2(XVM_ERR_INVALID_VALUE, field, text, "%s must be between %" PRId64 " and %" PRId64 ", not %s",
		    field, lo, hi, text);
}

/* The domain's figures after a change, for VM_metrics. */
static struct json_object *live_metrics(struct vm_op *op)
{
	struct xvm_hc_domain_info info = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op->domid };
	if (xvm_hypercall(op->e->hv, XVM_HC_DOMAIN_GET_INFO, &info) < 0)
		return NULL;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "VCPUs_number", json_object_new_int64(info.vcpus_online));
	json_object_object_add(m, "memory_actual", json_object_new_int64((int64_t)info.memory_actual_kib * 1024));
	return m;
}

static int end_with(struct vm_op *op, struct json_object *vm)
{
	struct json_object *metrics = live_metrics(op);
	int r = vm_op_end(op, vm, metrics);
	json_object_put(vm);
	json_object_put(metrics);
	return r;
}

int vm_set_vcpus_live(struct engine *e, const char *ref, int64_t n)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "changing_VCPUs_live", 0, &op);
	if (r < 0)
		return r;
	int64_t max = rec_int(op.rec, "VCPUs_max");
	if (n < 1 || n > max)
		return vm_op_abort(&op, out_of_range("VCPUs_number", n, 1, max));
	struct xvm_hc_domain_vcpus v = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid, .online = (uint32_t)n };
	if ((r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_SET_VCPUS, &v)) < 0)
		return vm_op_abort(&op, engine_hv_error(e, r, "vCPU hot-plug", ref));
	/* As xapi does: the next boot starts with the same number. */
	struct json_object *vm = json_object_new_object();
	json_object_object_add(vm, "VCPUs_at_startup", json_object_new_int64(n));
	return end_with(&op, vm);
}

int vm_set_memory_target_live(struct engine *e, const char *ref, int64_t target)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "changing_memory_live", 0, &op);
	if (r < 0)
		return r;
	int64_t lo = rec_int(op.rec, "memory_static_min"), hi = rec_int(op.rec, "memory_static_max");
	if (target < lo || target > hi)
		return vm_op_abort(&op, out_of_range("target", target, lo, hi));
	struct xvm_hc_domain_memory m = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid,
					  .target_kib = (uint64_t)target / 1024 };
	if ((r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_SET_MEMORY, &m)) < 0)
		return vm_op_abort(&op, engine_hv_error(e, r, "memory target", ref));
	/* As xe's vm-memory-target-set: the dynamic range closes on the target. */
	struct json_object *vm = json_object_new_object();
	json_object_object_add(vm, "memory_target", json_object_new_int64(target));
	json_object_object_add(vm, "memory_dynamic_min", json_object_new_int64(target));
	json_object_object_add(vm, "memory_dynamic_max", json_object_new_int64(target));
	return end_with(&op, vm);
}
