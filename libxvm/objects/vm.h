/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

/* Memory ordering and vCPU counts of a VM record; 0 or an error set. */
int vm_check_constraints(const char *ref, struct json_object *rec);
