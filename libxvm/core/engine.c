/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/async.h"
#include "core/error_internal.h"
#include "core/events.h"
#include "core/log.h"
#include "hypercall.h"
#include "lifecycle/monitor.h"
#include "objects/bootstrap.h"
#include "store/store.h"
#include "templates/builtin.h"

#define DEFAULT_SHUTDOWN_TIMEOUT_S 60

int engine_hv_error(struct engine *e, int err, const char *what, const char *ref)
{
	const char *detail = xvm_hv_last_error(e->hv);
	if (!detail || !*detail)
		detail = strerror(-err);
	switch (-err) {
	case ENOMEM:
		return ERR2(XVM_ERR_HOST_NOT_ENOUGH_FREE_MEMORY, ref ? ref : "", detail,
			    "%s: the host has not enough free memory: %s", what, detail);
	case EOPNOTSUPP:
		return ERR2(XVM_ERR_OPERATION_NOT_SUPPORTED_BY_BACKEND, what, detail,
			    "%s is not supported by this hypervisor backend: %s", what, detail);
	default:
		return ERR2(XVM_ERR_HYPERVISOR_ERROR, what, detail, "%s failed in the hypervisor: %s", what,
			    detail);
	}
}

int engine_hv_nic_error(struct engine *e, int err, const char *what, const char *ref)
{
	if (err != -ENODEV)
		return engine_hv_error(e, err, what, ref);
	const char *detail = xvm_hv_last_error(e->hv);
	return ERR2(XVM_ERR_BRIDGE_NOT_AVAILABLE, ref ? ref : "", detail ? detail : "",
		    "%s: %s (a network with bridge= uses a host bridge and never makes it)", what, detail ? detail : "");
}

int engine_host_memory(struct engine *e, struct host_memory *ret)
{
	struct xvm_hc_host_info info = { .head = XVM_HC_HEAD(0) };
	int r = xvm_hypercall(e->hv, XVM_HC_HOST_INFO, &info);
	if (r < 0)
		return engine_hv_error(e, r, "host info", NULL);
	ret->total_bytes = info.memory_total_kib * 1024;
	ret->free_bytes = info.memory_free_kib * 1024;
	return 0;
}

static unsigned shutdown_timeout_from_env(void)
{
	const char *s = getenv("XVM_SHUTDOWN_TIMEOUT");
	int64_t v;
	return s && parse_int64(s, &v) == 0 && v > 0 && v < 86400 ? (unsigned)v : DEFAULT_SHUTDOWN_TIMEOUT_S;
}

static int open_hypervisor(struct engine *e, const char *backend)
{
	int r = xvm_hv_open(backend, e->state_dir, 0, &e->hv);
	if (r == 0)
		return 0;
	if (r == -EPROTONOSUPPORT)
		return ERR1(XVM_ERR_URI_INVALID, backend,
			    "the %s hypervisor backend is not available in this build of xvm", backend);
	if (r == -EINVAL && getenv("XVM_HC_FAULT"))
		return ERR1(XVM_ERR_INVALID_VALUE, "XVM_HC_FAULT", "XVM_HC_FAULT is malformed: %s",
			    getenv("XVM_HC_FAULT"));
	return ERR2(XVM_ERR_HYPERVISOR_ERROR, backend, strerror(-r),
		    "cannot open the %s hypervisor in %s: %s", backend, e->state_dir, strerror(-r));
}

int engine_open(const char *backend, const char *state_dir, struct engine **ret)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return error_oom();
	e->oplock_fd = -1;
	pthread_mutex_init(&e->sync_lock, NULL);
	pthread_mutex_init(&e->oplock_spare_lock, NULL);
	pthread_mutex_init(&e->async_lock, NULL);
	e->shutdown_timeout_s = shutdown_timeout_from_env();
	int r;
	e->state_dir = strdup(state_dir);
	if (asprintf(&e->run_dir, "%s/run", state_dir) < 0 || !e->state_dir) {
		r = error_oom();
		goto fail;
	}
	if ((r = mkdir_p(e->run_dir)) < 0) {
		r = ERR1(XVM_ERR_STORE_ERROR, state_dir, "cannot create the state directory %s: %s",
			 state_dir, strerror(-r));
		goto fail;
	}
	char *lock_path;
	if (asprintf(&lock_path, "%s/oplocks", e->run_dir) < 0) {
		r = error_oom();
		goto fail;
	}
	e->oplock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock_path);
	if (e->oplock_fd < 0) {
		r = ERR1(XVM_ERR_STORE_ERROR, state_dir, "cannot open the operation locks in %s: %s",
			 e->run_dir, strerror(errno));
		goto fail;
	}
	char *db_path;
	if (asprintf(&db_path, "%s/xvm.db", state_dir) < 0) {
		r = error_oom();
		goto fail;
	}
	r = store_open(db_path, &e->store);
	free(db_path);
	if (r < 0 || (r = events_open(e)) < 0)
		goto fail;
	if ((r = open_hypervisor(e, backend)) < 0)
		goto fail;
	if ((r = bootstrap_host(e)) < 0)
		goto fail;
	if ((r = templates_sync_builtin(e)) < 0)
		goto fail;
	*ret = e;
	return 0;
fail:
	engine_close(e);
	return r;
}

void engine_close(struct engine *e)
{
	if (!e)
		return;
	monitor_stop(e);
	/* Async calls waiting in event.from end now, so the runners can be joined. */
	if (e->feed)
		events_interrupt(e);
	async_stop(e);
	events_close(e);
	store_close(e->store);
	xvm_hv_close(e->hv);
	if (e->oplock_fd >= 0)
		close(e->oplock_fd);
	for (int i = 0; i < e->oplock_nspare; i++)
		close(e->oplock_spare[i]);
	pthread_mutex_destroy(&e->oplock_spare_lock);
	pthread_mutex_destroy(&e->sync_lock);
	json_object_put(e->sync_retry);
	pthread_mutex_destroy(&e->async_lock);
	free(e->state_dir);
	free(e->run_dir);
	free(e);
}
