/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating VMs from templates and deleting them. */
#pragma once

struct engine;

/* template_name: a reference, UUID or name_label of a template. */
int vm_install(struct engine *e, const char *template_name, const char *new_name, char **ret_ref);
int vm_destroy(struct engine *e, const char *ref);
int vm_uninstall(struct engine *e, const char *ref);
