/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running a VM's domain: the hypercall sequences the lifecycle shares. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "hypercall.h"

struct engine;

/* Creates the VM's domain and, unless `paused`, unpauses it. On failure no
 * domain is left behind and the error is set. */
int domain_boot(struct engine *e, const char *ref, struct json_object *rec, bool paused,
		struct xvm_hc_domain_info *info);
/* Destroys a domain; one already gone is fine. */
int domain_destroy(struct engine *e, const char *ref, uint32_t domid);
/* Waits until the domain reaches SHUTDOWN, for at most timeout_s.
 * -ETIME when it did not; the reason is in info. */
int domain_wait_shutdown(struct engine *e, const char *ref, uint32_t domid, unsigned timeout_s,
			 struct xvm_hc_domain_info *info);

/* VM and VM_metrics fields describing a domain that now runs (or is paused). */
void domain_running_changes(struct engine *e, const struct xvm_hc_domain_info *info, bool paused,
			    struct json_object *vm, struct json_object *metrics);
/* Where a suspended VM's memory and device state is kept (free()). */
char *domain_suspend_image_path(struct engine *e, struct json_object *rec);
/* Saves the domain's memory and device state to `path` (in the state dir's
 * suspend/, made if need be); flags: XVM_HC_F_SAVE_KEEP or 0. */
int domain_save(struct engine *e, const char *ref, uint32_t domid, const char *path, uint32_t flags);

/* VM fields of a VM whose domain is gone. */
void domain_halted_changes(struct json_object *vm);
