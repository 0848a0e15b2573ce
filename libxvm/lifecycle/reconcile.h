/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keeping the store true to the hypervisor: guests power off, reboot and
 * crash on their own, and the VM's actions_after_shutdown/reboot/crash
 * decide what follows.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

struct engine;

/* Brings one VM (record `rec`, updated in place) in line with its domain,
 * applying the VM's actions; writes only when something changed. The
 * caller holds the VM's operation lock and no transaction. */
int reconcile_vm(struct engine *e, const char *ref, struct json_object *rec);

/* Handles every domain the hypervisor reports changed since the last call
 * (in this or any earlier process). Runs before each API call; costs one
 * hypercall when nothing happened. */
int engine_sync_domains(struct engine *e);
/* Whether a VM was busy at the last sync and waits to be looked at again. */
bool engine_sync_pending(struct engine *e);
