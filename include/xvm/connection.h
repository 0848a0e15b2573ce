/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connections. Every other call takes one.
 *
 *   local:///PATH          the embedded engine on the real hypervisor, state in PATH
 *   sim:///PATH            the embedded engine on the simulated hypervisor
 *   xvm://HOST[:PORT]      a remote xvmd over HTTPS (port 443); ?ca=FILE trusts
 *                          that CA or certificate, ?no_verify=1 skips the check
 *   xvm+tcp://HOST[:PORT]  a remote xvmd over plain HTTP (port 80)
 *   xvm+unix:///PATH       xvmd's unix socket (root logs in without a password)
 *   NULL                   $XVM_URI, else local:///var/lib/xvm
 *
 * A connection may be used from several threads at once.
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xvm_conn xvm_conn;

/*
 * A daemon's connection: a thread watches the hypervisor and applies the
 * VMs' actions_after_shutdown/reboot/crash as soon as guests act, not at
 * the next call; it first reconciles what happened while nobody watched.
 * Local URIs only.
 */
#define XVM_CONNECT_MONITOR (1u << 0)

/* flags: XVM_CONNECT_*; unknown bits fail with INVALID_VALUE. */
int xvm_connect(const char *uri, unsigned flags, xvm_conn **ret);

/*
 * xvm_connect with credentials for a remote daemon (XenAPI's
 * session.login_with_password): a user and a password, or an API token as
 * the password. NULL user: root; NULL password: "". A local URI takes
 * neither (INVALID_VALUE). A refused login fails with
 * SESSION_AUTHENTICATION_FAILED, an unreachable daemon with CONNECTION_FAILED.
 */
int xvm_connect_auth(const char *uri, const char *user, const char *password, unsigned flags, xvm_conn **ret);

/*
 * Ends the waits in progress on a local connection, and those to come:
 * each event.from answers at once as if its timeout had passed. For a
 * daemon that stops with clients waiting; other calls are not affected.
 */
void xvm_interrupt(xvm_conn *conn);

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
