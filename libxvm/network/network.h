/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Networks and VIFs: XenAPI's network and VIF calls, and what the VM
 * lifecycle needs of them. A network is one of three kinds:
 *   bridge "" (the bootstrap's "Host NAT network"): QEMU's user-mode NAT
 *     and DHCP, no bridge and no host change;
 *   managed: a private Linux bridge the hypervisor makes for the first VIF
 *     and removes after the last, named from the network's UUID;
 *   not managed: an existing host bridge, used and never changed.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "core/util.h"
#include "hypercall.h"

struct engine;

#define NETWORK_NAT_NAME "Host NAT network"
/* The MTUs a network may have (the hypercall ABI's). */
#define NETWORK_MTU_MIN 68
#define NETWORK_MTU_MAX 65535

/* INVALID_VALUE [MTU, text] unless 68 <= mtu <= 65535. */
int network_check_mtu(int64_t mtu, const char *text);

/* --- network (network_ops.c) --- */

/* XenAPI network.create: record fields name_label, name_description, MTU,
 * other_config, bridge (none: a managed private bridge), tags. */
int network_create(struct engine *e, struct json_object *record, char **ret_ref);
/* NETWORK_CONTAINS_VIF while any VIF is on it. */
int network_destroy(struct engine *e, const char *network);
/* In a write transaction: the user-mode NAT network, as the bootstrap makes it. */
int network_create_nat(struct engine *e);
/* In a transaction: where NICs go when nothing else is named (the NAT network); *ret NULL if none. */
int network_default(struct engine *e, char **ret);

/* --- VIF (vif_ops.c) --- */

/* A random MAC of the locally administered, unicast range. */
void vif_random_mac(char out[18]);
/* XenAPI VIF.create: record fields VM, network, device, MAC ("" or none:
 * random), MTU (the network's), other_config, locking_mode. */
int vif_create(struct engine *e, struct json_object *record, char **ret_ref);
/* In a write transaction: a checked new VIF (mac "": a random one; other_config borrowed, may be NULL). */
int vif_insert(struct engine *e, const char *vm, const char *network, const char *device, const char *mac,
	       struct json_object *other_config, char ref[XVM_REF_BUFLEN]);
int vif_destroy(struct engine *e, const char *vif);
int vif_plug(struct engine *e, const char *vif);
int vif_unplug(struct engine *e, const char *vif);

/* --- What the VM lifecycle needs (vm_nics.c) --- */

/* The VM's NICs for its domain from its VIFs; resuming: only those attached. In no transaction. */
int vm_nics_config(struct engine *e, const char *vm, bool resuming, struct xvm_hc_domain_config *cfg);
/* In a write transaction: every VIF of the VM attached or not. */
int vm_vifs_set_attached(struct engine *e, const char *vm, bool attached);
/* In a write transaction: copies of src's VIFs for the new VM dst, each with a new MAC. */
int vm_vifs_copy(struct engine *e, const char *src, const char *dst);
/* In a write transaction: VIFs for a template's nics spec (other_config:nics=N and
 * nic-K-network=NAME), at the devices dst has free, on the named networks or the default. */
int vm_vifs_from_spec(struct engine *e, const char *dst, struct json_object *other_config);
