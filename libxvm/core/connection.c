/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connections: parsing the URI and routing calls to the backend behind it. */
#include <stdlib.h>
#include <string.h>

#include "core/conn_backend.h"
#include "core/engine.h"
#include "core/error_internal.h"
#include "core/events.h"
#include "core/methods.h"
#include "lifecycle/monitor.h"
#include "remote/client.h"
#include "xvm/xvm.h"

#define DEFAULT_URI "local:///var/lib/xvm"

struct xvm_conn {
	char *uri;
	const struct conn_backend *backend;
	void *impl;
};

static const struct {
	const char *scheme; /* with "://" */
	const char *backend;
} local_schemes[] = {
	{ "local://", "qemu" },
	{ "sim://", "sim" },
};

static int local_call(void *impl, const char *method, struct json_object *args, struct json_object **result)
{
	/* What guests did on their own since the last call shows in this one. */
	return methods_call(impl, method, args, result);
}

static int local_list_methods(void *impl, struct json_object **ret)
{
	*ret = methods_list();
	return 0;
}

static void local_interrupt(void *impl)
{
	events_interrupt(impl);
}

static void local_close(void *impl)
{
	engine_close(impl);
}

static const struct conn_backend local_backend = {
	.call = local_call,
	.list_methods = local_list_methods,
	.interrupt = local_interrupt,
	.close = local_close,
};

static int open_local(const char *uri, unsigned flags, xvm_conn *conn)
{
	for (size_t i = 0; i < sizeof(local_schemes) / sizeof(local_schemes[0]); i++) {
		size_t n = strlen(local_schemes[i].scheme);
		if (strncmp(uri, local_schemes[i].scheme, n) != 0)
			continue;
		const char *path = uri + n;
		/* local:///PATH: no host part, an absolute path below / */
		if (path[0] != '/' || !path[1] || strstr(path, "/../") || strstr(path, "//"))
			return ERR1(XVM_ERR_URI_INVALID, uri,
				    "'%s' is not a valid URI: write %s/ABSOLUTE/PATH (no host part)", uri,
				    local_schemes[i].scheme);
		struct engine *e;
		int r = engine_open(local_schemes[i].backend, path, &e);
		if (r < 0)
			return r;
		if ((flags & XVM_CONNECT_MONITOR) && (r = monitor_start(e)) < 0) {
			engine_close(e);
			return r;
		}
		conn->backend = &local_backend;
		conn->impl = e;
		return 0;
	}
	return ERR1(XVM_ERR_URI_INVALID, uri,
		    "unknown connection URI '%s': use local:///PATH, sim:///PATH, xvm://HOST[:PORT], "
		    "xvm+tcp://HOST[:PORT] or xvm+unix:///PATH", uri);
}

int xvm_connect_auth(const char *uri, const char *user, const char *password, unsigned flags, xvm_conn **ret)
{
	error_clear();
	if (flags & ~XVM_CONNECT_MONITOR)
		return ERR2(XVM_ERR_INVALID_VALUE, "flags", "", "xvm_connect: unknown flags %#x", flags);
	if (!uri || !*uri)
		uri = getenv("XVM_URI");
	if (!uri || !*uri)
		uri = DEFAULT_URI;
	xvm_conn *c = calloc(1, sizeof(*c));
	if (!c || !(c->uri = strdup(uri))) {
		free(c);
		return error_oom();
	}
	int r;
	if (remote_uri_scheme(uri) && (flags & XVM_CONNECT_MONITOR)) {
		r = ERR1(XVM_ERR_INVALID_VALUE, uri, "%s is a remote connection: its daemon monitors the VMs", uri);
	} else if (remote_uri_scheme(uri)) {
		r = remote_open(uri, user, password, &c->impl);
		c->backend = &remote_backend;
	} else if (user || password) {
		r = ERR1(XVM_ERR_INVALID_VALUE, uri, "%s is a local connection: it takes no user or password", uri);
	} else {
		r = open_local(uri, flags, c);
	}
	if (r < 0) {
		free(c->uri);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int xvm_connect(const char *uri, unsigned flags, xvm_conn **ret)
{
	return xvm_connect_auth(uri, NULL, NULL, flags, ret);
}

xvm_conn *xvm_disconnect(xvm_conn *c)
{
	if (!c)
		return NULL;
	c->backend->close(c->impl);
	free(c->uri);
	free(c);
	return NULL;
}

const char *xvm_conn_get_uri(const xvm_conn *c)
{
	return c->uri;
}

int xvm_call(xvm_conn *c, const char *method, struct json_object *args, struct json_object **result)
{
	error_clear();
	if (!c || !method)
		return ERR0(XVM_ERR_INVALID_VALUE, "xvm_call needs a connection and a method name");
	return c->backend->call(c->impl, method, args, result);
}

void xvm_interrupt(xvm_conn *c)
{
	if (c && c->backend->interrupt)
		c->backend->interrupt(c->impl);
}

int xvm_list_methods(xvm_conn *c, struct json_object **ret)
{
	error_clear();
	return c->backend->list_methods(c->impl, ret);
}
