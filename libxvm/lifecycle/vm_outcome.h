/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

struct engine;

/*
 * Records what an operation, or the guest itself, did to a VM, in one
 * transaction: the VM's fields (`vm`, borrowed; also merged into `rec`),
 * its metrics (`metrics`, may be NULL; made on the VM's first run) and its
 * consoles (opened for a new domain, dropped with the old one).
 */
int vm_record_outcome(struct engine *e, const char *ref, struct json_object *rec, struct json_object *vm,
		      struct json_object *metrics);
