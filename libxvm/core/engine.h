/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The embedded engine behind local:/// and sim:/// connections: the state
 * store, the hypervisor handle and the objects this host owns.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/util.h"

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
	unsigned shutdown_timeout_s;/* default wait for a clean shutdown */
	bool backend_has_no_consoles; /* learnt from the first console asked for */
	pthread_mutex_t async_lock; /* async calls running (core/async.c): closing waits for them */
	pthread_cond_t async_done;
	unsigned async_running;
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
