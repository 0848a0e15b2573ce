/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connections: parsing the URI and routing calls to the engine behind it. */
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/methods.h"
#include "lifecycle/reconcile.h"
#include "xvm/xvm.h"

#define DEFAULT_URI "local:///var/lib/xvm"

struct xvm_conn {
	char *uri;
	struct engine *engine;
};

static const struct {
	const char *scheme; /* with "://" */
	const char *backend;
} local_schemes[] = {
	{ "local://", "qemu" },
	{ "sim://", "sim" },
};

static int open_local(const char *uri, xvm_conn *conn)
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
		return engine_open(local_schemes[i].backend, path, &conn->engine);
	}
	return ERR1(XVM_ERR_URI_INVALID, uri,
		    "unknown connection URI '%s': use local:///PATH or sim:///PATH", uri);
}

int xvm_connect(const char *uri, unsigned flags, xvm_conn **ret)
{
	error_clear();
	if (flags)
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
	int r = open_local(uri, c);
	if (r < 0) {
		free(c->uri);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

xvm_conn *xvm_disconnect(xvm_conn *c)
{
	if (!c)
		return NULL;
	engine_close(c->engine);
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
	/* What guests did on their own since the last call shows in this one. */
	int r = engine_sync_domains(c->engine);
	if (r < 0)
		return r;
	struct json_object *out = NULL;
	r = methods_dispatch(c->engine, method, args, &out);
	if (r < 0)
		return r;
	if (result)
		*result = out;
	else
		json_object_put(out);
	return 0;
}

int xvm_list_methods(xvm_conn *c, struct json_object **ret)
{
	error_clear();
	*ret = methods_list();
	return 0;
}
