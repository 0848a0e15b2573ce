/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "workers.h"

int rpc_error_set(struct rpc_error *err, const char *code, const char *message, ...)
{
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->message, sizeof(err->message), "%s", message);
	err->params = json_object_new_array();
	va_list ap;
	va_start(ap, message);
	for (const char *p; (p = va_arg(ap, const char *));)
		json_object_array_add(err->params, json_object_new_string(p));
	va_end(ap);
	return -1;
}

void rpc_error_clear(struct rpc_error *err)
{
	json_object_put(err->params);
	err->params = NULL;
}

/* libxvm's last error, as the wire carries it. */
static int library_error(struct rpc_error *err)
{
	const struct xvm_error *e = xvm_last_error();
	if (!e)
		return rpc_error_set(err, "INTERNAL_ERROR", "the call failed without saying why", NULL);
	rpc_error_set(err, e->name, e->message ? e->message : "", NULL);
	for (size_t i = 0; i < e->nparams; i++)
		json_object_array_add(err->params, json_object_new_string(e->params[i] ? e->params[i] : ""));
	return -1;
}

static const char *param_string(struct json_object *params, size_t i)
{
	struct json_object *v = json_object_array_get_idx(params, i);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int count_mismatch(struct rpc_error *err, const char *method, const char *expected, size_t got)
{
	char g[16];
	snprintf(g, sizeof(g), "%zu", got);
	return rpc_error_set(err, "MESSAGE_PARAMETER_COUNT_MISMATCH", "wrong number of parameters", method, expected,
			     g, NULL);
}

/* session.login_with_password(user, password[, version[, originator]]) */
static int login(struct rpc *rpc, const struct rpc_peer *peer, struct json_object *params, struct json_object **result,
		 struct rpc_error *err)
{
	size_t n = json_object_array_length(params);
	if (n < 2 || n > 4)
		return count_mismatch(err, "session.login_with_password", "4", n);
	const char *user = param_string(params, 0), *password = param_string(params, 1);
	const char *originator = n > 3 ? param_string(params, 3) : "";
	if (!user || !password || (n > 2 && !param_string(params, 2)) || !originator)
		return rpc_error_set(err, "FIELD_TYPE_ERROR", "the login parameters must be strings", "params", NULL);
	struct session_info info = { 0 };
	snprintf(info.originator, sizeof(info.originator), "%s", originator);
	const char *how;
	char why[256] = "";
	if (peer->local_root) {
		/* The kernel vouched for the peer: root on the unix socket. */
		snprintf(info.user, sizeof(info.user), "root");
		how = "local";
	} else if (auth_check_password(&rpc->auth, rpc->conn, user, password, info.user, sizeof(info.user), &how, why,
				       sizeof(why)) < 0) {
		xlog_warning("login of '%s' from %s refused: %s", user, peer->addr, why);
		return rpc_error_set(err, "SESSION_AUTHENTICATION_FAILED", "Authentication failure", user,
				     "Authentication failure", NULL);
	}
	snprintf(info.auth, sizeof(info.auth), "%s", how);
	char ref[SESSION_REF_LEN];
	if (sessions_open(rpc->sessions, &info, ref) < 0)
		return rpc_error_set(err, "INTERNAL_ERROR", "out of memory", "out of memory", NULL);
	xlog_info("%s logged in from %s (%s%s%s)", info.user, peer->addr, how, *originator ? ", " : "", originator);
	*result = json_object_new_string(ref);
	return 0;
}

/* session.get_this_host(session, self): the host the session is on (this
 * one); clients such as Ansible's XenServer modules start from it. */
static int this_host(struct rpc *rpc, struct json_object *params, struct json_object **result, struct rpc_error *err)
{
	const char *self = param_string(params, 1);
	if (!self || !sessions_touch(rpc->sessions, self, NULL))
		return rpc_error_set(err, "HANDLE_INVALID", "no such session", "session", self ? self : "", NULL);
	struct json_object *hosts;
	if (xvm_call(rpc->conn, "host.get_all", NULL, &hosts) < 0)
		return library_error(err);
	int r = json_object_array_length(hosts) ? 0 : rpc_error_set(err, "INTERNAL_ERROR", "no host", "no host", NULL);
	if (r == 0)
		*result = json_object_get(json_object_array_get_idx(hosts, 0));
	json_object_put(hosts);
	return r;
}

static int list_methods(struct rpc *rpc, struct json_object **result, struct rpc_error *err)
{
	static const char *const own[] = { "session.login_with_password", "session.logout", "session.get_this_host",
					   "system.listMethods" };
	struct json_object *all;
	if (xvm_list_methods(rpc->conn, &all) < 0)
		return library_error(err);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		json_object_array_add(all, json_object_new_string(own[i]));
	*result = all;
	return 0;
}

int rpc_call(struct rpc *rpc, const struct rpc_peer *peer, const char *method, struct json_object *params,
	     struct json_object **result, struct rpc_error *err)
{
	*result = NULL;
	if (strcmp(method, "session.login_with_password") == 0)
		return login(rpc, peer, params, result, err);
	const char *session = param_string(params, 0);
	struct session_info who;
	if (!session || !sessions_touch(rpc->sessions, session, &who))
		return rpc_error_set(err, "SESSION_INVALID", "the session is not valid (log in again)",
				     session ? session : "", NULL);
	size_t n = json_object_array_length(params);
	if (strcmp(method, "session.logout") == 0) {
		if (n != 1)
			return count_mismatch(err, method, "1", n);
		sessions_close(rpc->sessions, session);
		xlog_info("%s logged out", who.user);
		return 0;
	}
	if (strcmp(method, "system.listMethods") == 0)
		return n == 1 ? list_methods(rpc, result, err) : count_mismatch(err, method, "1", n);
	if (strcmp(method, "session.get_this_host") == 0)
		return n == 2 ? this_host(rpc, params, result, err) : count_mismatch(err, method, "2", n);
	/* The library's method, without the session. */
	struct json_object *args = json_object_new_array_ext((int)n);
	for (size_t i = 1; i < n; i++)
		json_object_array_add(args, json_object_get(json_object_array_get_idx(params, i)));
	/* A wait for events must not hold a worker that calls need. */
	bool waits = strcmp(method, "event.from") == 0;
	if (waits)
		workers_park();
	int r = xvm_call(rpc->conn, method, args, result);
	if (waits)
		workers_unpark();
	json_object_put(args);
	if (r < 0)
		library_error(err);
	xlog_debug("%s: %s -> %s", who.user, method, r < 0 ? err->code : "ok");
	return r < 0 ? -1 : 0;
}
