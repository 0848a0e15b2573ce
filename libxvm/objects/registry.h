/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every class definition, one per file in objects/. */
#pragma once

#include <pthread.h>
#include <stddef.h>

#include "objects/class.h"

extern const struct class_def class_pool, class_host, class_vm, class_vm_metrics, class_sr,
	class_pbd, class_vdi, class_vbd, class_network, class_vif, class_task, class_console, class_vtpm;

size_t class_def_count(void);
const struct class_def *class_def_at(size_t i);
const char *xvm_type_name(const struct xvm_field_info *f);
