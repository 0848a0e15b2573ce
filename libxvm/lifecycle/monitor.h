/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The monitor of a daemon's connection (XVM_CONNECT_MONITOR): a thread
 * that waits on the hypervisor's event fd and reconciles the VMs whose
 * guests powered off, rebooted or crashed, applying their
 * actions_after_*, without waiting for a call. It first reconciles what
 * happened while no process watched: a restarted daemon re-adopts the
 * running VMs as they are and deals with the ones that stopped.
 */
#pragma once

struct engine;

int monitor_start(struct engine *e);
void monitor_stop(struct engine *e);
