/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connections. Every other call takes one.
 *
 *   local:///PATH   the embedded engine on the real hypervisor, state in PATH
 *   sim:///PATH     the embedded engine on the simulated hypervisor
 *   NULL            $XVM_URI, else local:///var/lib/xvm
 *
 * A connection may be used from several threads at once.
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xvm_conn xvm_conn;

/* flags: none defined yet; unknown bits fail with INVALID_VALUE. */
int xvm_connect(const char *uri, unsigned flags, xvm_conn **ret);

/* Closes the connection; accepts NULL; returns NULL. Running VMs keep running. */
xvm_conn *xvm_disconnect(xvm_conn *conn);

/* The URI the connection was opened with, after defaults were applied. */
const char *xvm_conn_get_uri(const xvm_conn *conn);

enum xvm_log_level { XVM_LOG_ERROR = 0, XVM_LOG_WARNING, XVM_LOG_INFO, XVM_LOG_DEBUG };

typedef void (*xvm_log_fn)(enum xvm_log_level level, const char *message, void *userdata);

/*
 * libxvm never prints: it hands each log line at max_level or more severe
 * to this callback (process-wide). NULL, the default, drops them all.
 */
void xvm_set_log_handler(xvm_log_fn fn, enum xvm_log_level max_level, void *userdata);

#ifdef __cplusplus
}
#endif
