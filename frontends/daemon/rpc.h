/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One call, whatever the wire (JSON-RPC or XML-RPC): XenAPI's method name
 * and positional parameters, the session first. The daemon answers the
 * session methods itself; every other method is libxvm's, called through
 * xvm_call on the daemon's one connection.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <xvm/xvm.h>

#include "auth.h"
#include "sessions.h"

struct rpc {
	xvm_conn *conn;
	struct sessions *sessions;
	struct auth_config auth;
};

struct rpc_peer {
	bool local_root;    /* on the unix socket, peer uid 0 */
	char addr[64];      /* for the log */
};

/* A failure in XenAPI's terms: code, parameters, and a line for humans. */
struct rpc_error {
	char code[64];
	struct json_object *params;  /* array of strings (owned) */
	char message[512];
};

/* 0 with *result set (NULL for void), or -1 with err filled (clear it with rpc_error_clear). */
int rpc_call(struct rpc *rpc, const struct rpc_peer *peer, const char *method, struct json_object *params,
	     struct json_object **result, struct rpc_error *err);

/* Fills err; params are strings (NULL-terminated). Returns -1. */
int rpc_error_set(struct rpc_error *err, const char *code, const char *message, ...);
void rpc_error_clear(struct rpc_error *err);
