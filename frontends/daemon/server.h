/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP side (libmicrohttpd): a TCP listener (TLS or plain) and a unix
 * socket. Requests are read by microhttpd's threads, then the connection
 * is suspended and the call runs on a worker; the worker resumes it with
 * the response. Paths: /jsonrpc (JSON-RPC), / and /RPC2 (XML-RPC).
 */
#pragma once

#include "config.h"
#include "rpc.h"

struct server;

/* Binds and starts listening; logs where. 0, or -1 after logging why. */
int server_start(const struct xvmd_config *cfg, struct rpc *rpc, struct server **ret);
/* Stops accepting, finishes the calls in flight, closes everything. */
void server_stop(struct server *s);
