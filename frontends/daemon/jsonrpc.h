/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON-RPC at /jsonrpc, in the two shapes XenAPI serves:
 *   1.0: {"method", "params", "id"} -> {"result", "error", "id"},
 *        error = [CODE, params...]
 *   2.0: {"jsonrpc": "2.0", ...} -> {"jsonrpc": "2.0", "result" | "error", "id"},
 *        error = {"code": 1, "message": CODE, "data": [params...],
 *                 "description": a line for humans (xvm's addition)}
 * A body that is not JSON, or not a request, gets JSON-RPC 2.0's own
 * errors (-32700 parse error, -32600 invalid request).
 */
#pragma once

#include <stddef.h>

#include "rpc.h"

/* The response body (free()), never NULL but when out of memory. */
char *jsonrpc_handle(struct rpc *rpc, const struct rpc_peer *peer, const char *body, size_t len);
