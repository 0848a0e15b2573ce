/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The remote client: libxvm's calls as XenAPI JSON-RPC 2.0 to an xvmd
 * (libcurl), with the session the connection logged in with.
 *
 *   xvm://HOST[:PORT]        HTTPS (port 443); the certificate is checked
 *                            against the system's CAs, or ?ca=FILE (a CA or
 *                            the daemon's own certificate); ?no_verify=1 skips it
 *   xvm+tcp://HOST[:PORT]    plain HTTP (port 80), for trusted networks
 *   xvm+unix:///PATH         the daemon's unix socket (root needs no password)
 */
#pragma once

#include "core/conn_backend.h"

extern const struct conn_backend remote_backend;

/* Whether the URI names a remote daemon (whatever else is wrong with it). */
int remote_uri_scheme(const char *uri);

/* Logs in with user/password (NULL: root, ""); sets the error on failure. */
int remote_open(const char *uri, const char *user, const char *password, void **out);
