/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "hypercall.h"

struct engine;

/* The hypervisor's view of a VM record: boot mode, resources, platform.
 * Values the VM cannot run with fail here, before any hypercall, with
 * VALUE_NOT_SUPPORTED, INVALID_VALUE or VM_TOO_MANY_VCPUS. */
int domain_config_from_vm(struct engine *e, const char *ref, struct json_object *rec,
			  struct xvm_hc_domain_config *cfg);
