/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XML-RPC at / and /RPC2, as XenAPI serves it (what XenAPI.py speaks):
 * every response is a struct {Status: "Success", Value: ...} or
 * {Status: "Failure", ErrorDescription: [CODE, params...]}; 64-bit ints
 * travel as strings of digits, void as "". A body that is not an XML-RPC
 * call gets a standard <fault> (-32700).
 *
 * The parser is strict and small: the XML-RPC elements, whitespace between
 * them, the five named entities and character references; no DTDs,
 * comments, CDATA or namespaces; 64 levels deep at most.
 */
#pragma once

#include <stddef.h>

#include "rpc.h"

/* The response body (free()), NULL only when out of memory. */
char *xmlrpc_handle(struct rpc *rpc, const struct rpc_peer *peer, const char *body, size_t len);
