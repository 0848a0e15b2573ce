/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM power operations of XenAPI's state machine. */
#pragma once

#include <stdbool.h>

struct engine;

int vm_start(struct engine *e, const char *ref, bool paused, bool force);
int vm_clean_shutdown(struct engine *e, const char *ref);
int vm_hard_shutdown(struct engine *e, const char *ref);
int vm_clean_reboot(struct engine *e, const char *ref);
int vm_hard_reboot(struct engine *e, const char *ref);
int vm_pause(struct engine *e, const char *ref);
int vm_unpause(struct engine *e, const char *ref);
int vm_suspend(struct engine *e, const char *ref);
int vm_resume(struct engine *e, const char *ref, bool paused, bool force);
int vm_simulate_guest_action(struct engine *e, const char *ref, const char *action);
