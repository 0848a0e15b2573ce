/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by vif_ops.c and vm_nics.c: a VIF's NIC for the hypervisor. */
#pragma once

#include <json-c/json.h>

#include "core/util.h"
#include "hypercall.h"

struct engine;

/* The VIF fields vif_nic() reads. */
extern const char *const vif_nic_fields[];

/* In a transaction: the NIC of a VIF record (vif_nic_fields): its network's
 * bridge and MTU, the VM's platform:nic_model. */
int vif_nic(struct engine *e, struct json_object *vif, struct xvm_hc_nic_config *nic);
