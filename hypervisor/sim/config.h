/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks a domain's configuration and devices the way a real backend would
 * before building the domain, and turns them into slot fields. Checks that
 * need the domain table (memory, duplicate uuid) are the caller's.
 */
#pragma once

#include "config_check.h"
#include "hypercall.h"
#include "host.h"
#include "table.h"

#define SIM_MAX_VCPUS 64

int sim_config_check(const struct xvm_hc_domain_config *c, const struct sim_host *host);

/* Fills the slot with what the config determines; run state is left alone. */
void sim_config_to_slot(const struct xvm_hc_domain_config *c, struct sim_slot *s);
void sim_disk_to_slot(const struct xvm_hc_disk_config *d, struct sim_disk *out);
void sim_nic_to_slot(const struct xvm_hc_nic_config *n, struct sim_nic *out);
