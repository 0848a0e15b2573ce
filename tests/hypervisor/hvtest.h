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
