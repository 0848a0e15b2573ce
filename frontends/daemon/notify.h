/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd's readiness protocol (Type=notify): a datagram to
 * $NOTIFY_SOCKET, spoken directly so the daemon needs no libsystemd.
 */
#pragma once

/* Sends state ("READY=1", "STOPPING=1"); nothing without $NOTIFY_SOCKET. */
void notify_systemd(const char *state);
