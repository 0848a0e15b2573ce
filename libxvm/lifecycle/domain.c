/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/domain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/util.h"
#include "lifecycle/domain_config.h"

int domain_boot(struct engine *e, const char *ref, struct json_object *rec, bool paused,
		struct xvm_hc_domain_info *info)
{
	struct xvm_hc_domain_config cfg;
	int r = domain_config_from_vm(e, ref, rec, &cfg);
	if (r < 0)
		return r;
	struct xvm_hc_domain_create create = { .head = XVM_HC_HEAD(paused ? 0 : XVM_HC_F_CREATE_RUNNING),
					       .config = &cfg };
	if ((r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_CREATE, &create)) < 0)
		return engine_hv_nic_error(e, r, "domain create", ref);
	*info = (struct xvm_hc_domain_info){ .head = XVM_HC_HEAD(0), .domid = create.domid };
	if ((r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, info)) < 0) {
		r = engine_hv_error(e, r, "domain info", ref);
		domain_destroy(e, ref, create.domid);
		return r;
	}
	return 0;
}

int domain_destroy(struct engine *e, const char *ref, uint32_t domid)
{
	struct xvm_hc_domain d = { .head = XVM_HC_HEAD(0), .domid = domid };
	int r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_DESTROY, &d);
	if (r < 0 && r != -ESRCH)
		return engine_hv_error(e, r, "domain destroy", ref);
	return 0;
}

int domain_wait_shutdown(struct engine *e, const char *ref, uint32_t domid, unsigned timeout_s,
			 struct xvm_hc_domain_info *info)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long delay_us = 50;
	for (;;) {
		*info = (struct xvm_hc_domain_info){ .head = XVM_HC_HEAD(0), .domid = domid };
		int r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, info);
		if (r < 0)
			return engine_hv_error(e, r, "domain info", ref);
		if (info->state == XVM_HC_STATE_SHUTDOWN)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double waited = (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
		if (waited >= timeout_s)
			return -ETIME;
		struct timespec ts = { 0, delay_us * 1000 };
		nanosleep(&ts, NULL);
		/* Back off to 50 ms: a sim guest answers at once, a real one in seconds. */
		if (delay_us < 50000)
			delay_us *= 2;
	}
}

void domain_running_changes(struct engine *e, const struct xvm_hc_domain_info *info, bool paused,
			    struct json_object *vm, struct json_object *metrics)
{
	char now[XVM_DATETIME_BUFLEN], started[XVM_DATETIME_BUFLEN];
	datetime_format(time(NULL), now);
	datetime_format((time_t)info->start_time, started);
	json_object_object_add(vm, "power_state", json_object_new_string(paused ? "Paused" : "Running"));
	json_object_object_add(vm, "domid", json_object_new_int64(info->domid));
	json_object_object_add(vm, "resident_on", json_object_new_string(e->host_ref));
	json_object_object_add(vm, "memory_target", json_object_new_int64((int64_t)info->memory_target_kib * 1024));
	json_object_object_add(vm, "domarch", json_object_new_string("x86_64"));
	json_object_object_add(metrics, "start_time", json_object_new_string(started));
	json_object_object_add(metrics, "last_updated", json_object_new_string(now));
	json_object_object_add(metrics, "VCPUs_number", json_object_new_int64(info->vcpus_online));
	json_object_object_add(metrics, "memory_actual", json_object_new_int64((int64_t)info->memory_actual_kib * 1024));
}

void domain_halted_changes(struct json_object *vm)
{
	json_object_object_add(vm, "power_state", json_object_new_string("Halted"));
	json_object_object_add(vm, "domid", json_object_new_int64(-1));
	json_object_object_add(vm, "resident_on", json_object_new_string(XVM_NULL_REF));
	json_object_object_add(vm, "memory_target", json_object_new_int64(0));
	json_object_object_add(vm, "domarch", json_object_new_string(""));
}

char *domain_suspend_image_path(struct engine *e, struct json_object *rec)
{
	struct json_object *u;
	json_object_object_get_ex(rec, "uuid", &u);
	char *path;
	return asprintf(&path, "%s/suspend/%s.xvmsave", e->state_dir, json_object_get_string(u)) < 0 ? NULL : path;
}

int domain_save(struct engine *e, const char *ref, uint32_t domid, const char *path, uint32_t flags)
{
	char *dir = NULL;
	if (asprintf(&dir, "%s/suspend", e->state_dir) < 0)
		return error_oom();
	struct xvm_hc_domain_save save = { .head = XVM_HC_HEAD(flags), .domid = domid };
	int r;
	if ((r = mkdir_p(dir)) < 0)
		r = ERR1(XVM_ERR_INTERNAL_ERROR, dir, "cannot create %s: %s", dir, strerror(-r));
	else if (snprintf(save.path, sizeof(save.path), "%s", path) >= (int)sizeof(save.path))
		r = ERR1(XVM_ERR_INVALID_VALUE, path, "the suspend image path %s is too long", path);
	else if ((r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_SAVE, &save)) < 0)
		r = engine_hv_error(e, r, "domain save", ref);
	free(dir);
	return r;
}
