/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the hypervisor tests: state dirs, configs, short calls. */
#pragma once

#include <stdint.h>

#include "hypercall.h"

/* A fresh state dir under /tmp; hvt_rmdir() removes it and everything in it. */
char *hvt_tmpdir(void);
void hvt_rmdir(char *dir);

/* A valid HVM config whose uuid is derived from n: 2 vCPUs (1 online),
 * `mem_kib` of memory, a disk at position 0, an empty CD drive at 3, a NIC at 0. */
void hvt_config(struct xvm_hc_domain_config *c, unsigned n, uint64_t mem_kib);

/* Creates domain n (asserting success) and returns its domid. */
uint32_t hvt_create(struct xvm_hv *hv, unsigned n);

/* GET_INFO, asserting success. */
struct xvm_hc_domain_info hvt_info(struct xvm_hv *hv, uint32_t domid);

/* One-domid ops: pause, unpause, destroy. */
int hvt_dom(struct xvm_hv *hv, enum xvm_hc op, uint32_t domid);

/* DOMAIN_CREATE of *c; checks that a failure leaves the domid alone.
 * *domid (if domid is not NULL) gets the new domain's id. */
int hvt_create_cfg(struct xvm_hv *h, const struct xvm_hc_domain_config *c, uint32_t *domid);

/* HOST_INFO, asserting success. */
struct xvm_hc_host_info hvt_host_info(struct xvm_hv *h);

/* DOMAIN_SHUTDOWN and GUEST_ACTION. */
int hvt_shutdown_req(struct xvm_hv *h, uint32_t domid, enum xvm_hc_shutdown_reason why);
int hvt_guest_action(struct xvm_hv *h, uint32_t domid, enum xvm_hc_shutdown_reason what);

/* EVENT_POLL since *seq; on success *seq moves on to the latest event. */
int hvt_event_poll(struct xvm_hv *h, uint64_t *seq, uint32_t *ids, uint32_t cap, uint32_t *count);

/* How many domains LIST reports (asserting success or -ENOBUFS). */
uint32_t hvt_list_count(struct xvm_hv *h);

/* Runs a shell command (printf-formatted): its exit status, or -1. */
int hvt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* DISK_GET_INFO, asserting success. */
struct xvm_hc_disk_info hvt_disk_info(struct xvm_hv *h, uint32_t domid, uint32_t position);
int hvt_disk_resize(struct xvm_hv *h, uint32_t domid, uint32_t position, uint64_t size);
int hvt_disk_snapshot(struct xvm_hv *h, uint32_t domid, uint32_t position, const char *overlay,
		      const char *format);
/* DEVICE_ATTACH or DEVICE_DETACH of a disk. */
int hvt_disk_device(struct xvm_hv *h, enum xvm_hc op, uint32_t domid, const struct xvm_hc_disk_config *d);

/*
 * The sim fixture, shared by test_sim.c and test_sim_save.c (define
 * HVT_SIM_FIXTURE before including this header; defined in simtest.c):
 * a fresh state dir and a sim handle on it, with no fault or trace set.
 */
#ifdef HVT_SIM_FIXTURE
extern char *dir;
extern struct xvm_hv *hv;
extern struct xvm_hc_domain_config cfg; /* scratch; too big for comfort on the stack */

void hvt_sim_setup(void);
void hvt_sim_teardown(void);
#endif
