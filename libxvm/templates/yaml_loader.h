/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

/*
 * Reads a template file: a YAML mapping of VM field names to values (maps as
 * nested mappings, sets as sequences; memory sizes may carry units such as
 * 2GiB). Every field is checked against the VM class: an unknown field, a
 * read-only one, a value of the wrong type or a missing uuid / name_label
 * fails with TEMPLATE_INVALID naming the file and line. Besides the fields:
 *   disks: [{size: 8GiB, bootable: true, sr: default|UUID, name: ...}]
 *   cd: true                  an empty CD drive at position 3
 *   nics: N or [{network: NAME}]
 *   recommendations: {memory_min, memory_max, vcpus_min, vcpus_max}
 * disks and cd become other_config:disks (templates/provision.h), nics
 * other_config:nics (and nic-N-network), recommendations XenServer's XML.
 * *record: the coerced fields, ready to store.
 */
int template_load_file(const char *path, struct json_object **record);
