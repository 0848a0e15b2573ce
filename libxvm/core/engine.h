/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The embedded engine behind local:/// and sim:/// connections: the state
 * store, the hypervisor handle and the objects this host owns.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "core/util.h"

struct async_pool;
struct event_feed;
struct monitor;
struct store;
struct xvm_hv;

struct engine {
	char *state_dir;
	char *run_dir;              /* per-domain runtime files and the op locks */
	struct store *store;
	struct xvm_hv *hv;
	int oplock_fd;              /* run/oplocks: one byte-range lock per object */
#define OPLOCK_SPARES 8
	int oplock_spare[OPLOCK_SPARES]; /* descriptions of it holding no lock, for reuse */
	int oplock_nspare;
	pthread_mutex_t oplock_spare_lock;
	char pool_ref[XVM_REF_BUFLEN];
	char host_ref[XVM_REF_BUFLEN];
	pthread_mutex_t sync_lock;  /* one domain sync at a time in this process */
	bool synced_once;
	uint64_t event_seq;         /* hypervisor events handled up to here */
	struct json_object *sync_retry; /* VMs an operation held at a sync: ref -> null */
	unsigned shutdown_timeout_s;/* default wait for a clean shutdown */
	bool backend_has_no_consoles; /* learnt from the first console asked for */
	pthread_mutex_t async_lock;
	struct async_pool *async;   /* runners of Async calls, from the first one */
	struct event_feed *feed;    /* wakes event.from (core/events.h) */
	struct monitor *monitor;    /* XVM_CONNECT_MONITOR (lifecycle/monitor.h) */
};

/* backend: "sim" or "qemu". Sets the error on failure. */
int engine_open(const char *backend, const char *state_dir, struct engine **ret);
void engine_close(struct engine *e);

struct host_memory {
	uint64_t total_bytes;
	uint64_t free_bytes;
};
int engine_host_memory(struct engine *e, struct host_memory *ret);

/* Maps a failed hypercall (negative errno) to an API error naming `what`. */
int engine_hv_error(struct engine *e, int err, const char *what, const char *ref);
/* The same for ops that plug NICs (domain create and restore, NIC hot-plug): -ENODEV,
 * a missing host bridge, is BRIDGE_NOT_AVAILABLE. */
int engine_hv_nic_error(struct engine *e, int err, const char *what, const char *ref);
