/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Export of a VM (or template, or snapshot) to an OVA, and import of an OVA
 * or an OVF with its files: VM.export_to_file, VM.import_from_file. Both are
 * all-or-nothing: an export writes FILENAME.partial and renames it; a failed
 * import deletes what it made.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

struct engine;

/* VIF other_config key: the OVF network of a VIF imported onto no network of this host. */
#define OVA_NETWORK_KEY "ovf_network"

/* options (borrowed, may be NULL): compress=true for gzip-compressed disks. */
int vm_export_to_file(struct engine *e, const char *vm, const char *filename, struct json_object *options);
/* sr: where the disks go (NULL or OpaqueRef:NULL: the pool's default SR);
 * options: preserve=true keeps the MAC addresses. *vms: the new VMs' references. */
int vm_import_from_file(struct engine *e, const char *filename, const char *sr, struct json_object *options,
			struct json_object **vms);
struct field_def;
/* The VM fields xvm's section of the descriptor carries: the stored read-write
 * ones but references (hosts, SRs: another pool's). */
bool ova_is_xvm_field(const struct field_def *f);
/* options[key] is true (a boolean or "true"); false when absent. INVALID_VALUE for anything else. */
int ova_option_bool(struct json_object *options, const char *key, bool *ret);
