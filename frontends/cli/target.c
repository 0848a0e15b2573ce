/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "target.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 4096

struct defaults {
	char *server, *port, *username, *password, *ca;
	bool nossl;
};


static void defaults_clear(struct defaults *d)
{
	free(d->server), free(d->port), free(d->username), free(d->ca);
	if (d->password)
		memset(d->password, 0, strlen(d->password));
	free(d->password);
}

/* The first line of path, without its newline. */
static char *first_line(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		cli_errf(err, errlen, "cannot read the password file %s: %s", path, strerror(errno));
		return NULL;
	}
	char line[MAX_LINE];
	char *out = fgets(line, sizeof(line), f) ? strdup(line) : strdup("");
	fclose(f);
	if (out)
		out[strcspn(out, "\r\n")] = 0;
	memset(line, 0, sizeof(line));
	return out;
}

/* ~/.xvm: key=value lines; a missing file is no error. */
static int read_defaults(struct defaults *d, char *err, size_t errlen)
{
	const char *home = getenv("HOME");
	if (!home || !*home)
		return 0;
	char path[4096];
	snprintf(path, sizeof(path), "%s/.xvm", home);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : cli_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	char line[MAX_LINE];
	int r = 0;
	for (unsigned n = 1; r == 0 && fgets(line, sizeof(line), f); n++) {
		line[strcspn(line, "\r\n")] = 0;
		char *key = line + strspn(line, " \t");
		if (!*key || *key == '#')
			continue;
		char *eq = strchr(key, '=');
		if (!eq) {
			r = cli_errf(err, errlen, "%s:%u: expected key=value", path, n);
			break;
		}
		*eq = 0;
		const char *value = eq + 1;
		char **slot = strcmp(key, "server") == 0 ? &d->server
			    : strcmp(key, "port") == 0 ? &d->port
			    : strcmp(key, "username") == 0 ? &d->username
			    : strcmp(key, "password") == 0 ? &d->password
			    : strcmp(key, "ca") == 0 ? &d->ca : NULL;
		if (slot) {
			free(*slot);
			if (!(*slot = strdup(value)))
				r = cli_errf(err, errlen, "out of memory");
		} else if (strcmp(key, "nossl") == 0 && (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)) {
			d->nossl = strcmp(value, "true") == 0;
		} else {
			r = cli_errf(err, errlen, "%s:%u: unknown setting '%s' (server, port, username, password, nossl, ca)",
				 path, n, key);
		}
	}
	memset(line, 0, sizeof(line));
	fclose(f);
	return r;
}

static bool is_remote(const char *uri)
{
	return uri && strncmp(uri, "xvm", 3) == 0 && strstr(uri, "://");
}

static int build(const struct cli_options *o, const struct defaults *d, struct cli_target *t, char *err,
		 size_t errlen)
{
	if (o->uri && (o->server || o->port || o->nossl))
		return cli_errf(err, errlen, "-c excludes -s, -p and --nossl");
	if ((o->port || o->nossl || o->ca) && !o->server && !d->server && !is_remote(o->uri))
		return cli_errf(err, errlen, "-p, --nossl and --ca need a host (-s HOST or server= in ~/.xvm)");
	if (o->password && o->password_file)
		return cli_errf(err, errlen, "-pw and -pwf exclude each other");
	const char *server = o->uri ? NULL : o->server ? o->server : d->server;
	if (server) {
		const char *port = o->port ? o->port : o->server ? NULL : d->port;
		bool nossl = o->nossl || (!o->server && d->nossl);
		const char *ca = o->ca ? o->ca : d->ca;
		bool v6 = strchr(server, ':') && server[0] != '[';
		if (!*server || strpbrk(server, "/?@ "))
			return cli_errf(err, errlen, "-s takes a host name or address, not '%s'", server);
		if (port && (!*port || strspn(port, "0123456789") != strlen(port)))
			return cli_errf(err, errlen, "-p takes a port number, not '%s'", port);
		if (asprintf(&t->uri, "%s://%s%s%s%s%s%s%s", nossl ? "xvm+tcp" : "xvm", v6 ? "[" : "", server, v6 ? "]" : "",
			     port ? ":" : "", port ? port : "", ca && !nossl ? "?ca=" : "", ca && !nossl ? ca : "") < 0)
			return cli_errf(err, errlen, "out of memory");
	} else if (o->uri && !(t->uri = strdup(o->uri))) {
		return cli_errf(err, errlen, "out of memory");
	}
	if (!is_remote(t->uri ? t->uri : getenv("XVM_URI"))) {
		if (o->user || o->password || o->password_file)
			return cli_errf(err, errlen, "-u, -pw and -pwf are for a remote host (-s HOST)");
		return 0;
	}
	const char *user = o->user ? o->user : d->username;
	if (user && !(t->user = strdup(user)))
		return cli_errf(err, errlen, "out of memory");
	if (o->password_file)
		return (t->password = first_line(o->password_file, err, errlen)) ? 0 : -1;
	const char *pw = o->password ? o->password : d->password;
	if (pw && !(t->password = strdup(pw)))
		return cli_errf(err, errlen, "out of memory");
	return 0;
}

int cli_target_resolve(const struct cli_options *o, struct cli_target *t, char *err, size_t errlen)
{
	struct defaults d = { 0 };
	memset(t, 0, sizeof(*t));
	int r = read_defaults(&d, err, errlen);
	if (r == 0)
		r = build(o, &d, t, err, errlen);
	defaults_clear(&d);
	if (r < 0)
		cli_target_clear(t);
	return r;
}

void cli_target_clear(struct cli_target *t)
{
	free(t->uri);
	free(t->user);
	if (t->password)
		memset(t->password, 0, strlen(t->password));
	free(t->password);
	memset(t, 0, sizeof(*t));
}
