/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "log.h"

enum kind { K_STRING, K_UINT, K_BOOL, K_LEVEL, K_SIZE };

struct key {
	const char *section; /* NULL: top level */
	const char *name;
	enum kind kind;
	size_t offset;
	unsigned long long max; /* K_UINT, K_SIZE */
};

#define OFF(f) offsetof(struct xvmd_config, f)
static const struct key keys[] = {
	{ NULL, "address", K_STRING, OFF(address), 0 },
	{ NULL, "port", K_UINT, OFF(port), 65535 },
	{ NULL, "tls", K_BOOL, OFF(tls), 0 },
	{ NULL, "certificate", K_STRING, OFF(certificate), 0 },
	{ NULL, "key", K_STRING, OFF(key), 0 },
	{ NULL, "unix_socket", K_STRING, OFF(unix_socket), 0 },
	{ NULL, "state_dir", K_STRING, OFF(state_dir), 0 },
	{ NULL, "backend", K_STRING, OFF(backend), 0 },
	{ NULL, "workers", K_UINT, OFF(workers), 1024 },
	{ NULL, "max_body", K_SIZE, OFF(max_body), 1ull << 30 },
	{ NULL, "log_level", K_LEVEL, OFF(log_level), 0 },
	{ "auth", "pam_service", K_STRING, OFF(pam_service), 0 },
	{ "auth", "pam_confdir", K_STRING, OFF(pam_confdir), 0 },
	{ "auth", "admin_group", K_STRING, OFF(admin_group), 0 },
	{ "auth", "session_idle_timeout", K_UINT, OFF(session_idle_timeout), 366u * 86400 },
	{ "auth", "max_sessions_per_user", K_UINT, OFF(max_sessions_per_user), 1000000 },
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int set_string(char **field, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

static void defaults(struct xvmd_config *c)
{
	*c = (struct xvmd_config){
		.port = 443,
		.tls = true,
		.workers = 16,
		.max_body = 4u << 20,
		.log_level = XVM_LOG_INFO,
		.session_idle_timeout = 86400,
		.max_sessions_per_user = 500,
	};
	set_string(&c->address, "0.0.0.0");
	set_string(&c->certificate, "/etc/xvm/xvmd-cert.pem");
	set_string(&c->key, "/etc/xvm/xvmd-key.pem");
	set_string(&c->unix_socket, "/run/xvm/xvmd.sock");
	set_string(&c->state_dir, "/var/lib/xvm");
	set_string(&c->backend, "qemu");
	set_string(&c->pam_service, "xvmd");
	set_string(&c->pam_confdir, "");
	set_string(&c->admin_group, "xvm-admin");
}

static int set_key(struct xvmd_config *c, const struct key *k, const char *value, size_t line, char *err,
		   size_t errlen)
{
	char *field = (char *)c + k->offset;
	char *end;
	unsigned long long v;
	switch (k->kind) {
	case K_STRING:
		return set_string((char **)field, value) < 0 ? fail(err, errlen, "out of memory") : 0;
	case K_BOOL:
		if (strcmp(value, "true") && strcmp(value, "false"))
			return fail(err, errlen, "line %zu: %s must be true or false, not '%s'", line, k->name, value);
		*(bool *)field = strcmp(value, "true") == 0;
		return 0;
	case K_LEVEL: {
		int level = xlog_level_parse(value);
		if (level < 0)
			return fail(err, errlen, "line %zu: log_level must be error, warning, info or debug, not '%s'",
				    line, value);
		*(int *)field = level;
		return 0;
	}
	case K_UINT:
	case K_SIZE:
		errno = 0;
		v = strtoull(value, &end, 10);
		if (!*value || *end || value[0] == '-' || errno || v > k->max)
			return fail(err, errlen, "line %zu: %s must be a whole number up to %llu, not '%s'", line,
				    k->name, k->max, value);
		if (k->kind == K_UINT)
			*(unsigned *)field = (unsigned)v;
		else
			*(size_t *)field = (size_t)v;
		return 0;
	}
	return fail(err, errlen, "line %zu: bad key", line);
}

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0 &&
		    ((!section && !keys[i].section) || (section && keys[i].section && strcmp(section, keys[i].section) == 0)))
			return &keys[i];
	return NULL;
}

static bool is_section(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].section && strcmp(keys[i].section, name) == 0)
			return true;
	return false;
}

struct reader {
	yaml_parser_t yaml;
	yaml_event_t ev;
	char *err;
	size_t errlen;
};

static int next(struct reader *rd)
{
	yaml_event_delete(&rd->ev);
	if (!yaml_parser_parse(&rd->yaml, &rd->ev)) {
		memset(&rd->ev, 0, sizeof(rd->ev));
		return fail(rd->err, rd->errlen, "line %zu: YAML syntax error: %s", rd->yaml.problem_mark.line + 1,
			    rd->yaml.problem ? rd->yaml.problem : "unknown");
	}
	return 0;
}

/* Reads `key: scalar` pairs up to the end of the mapping; a known section
 * name at the top level opens a nested mapping. */
static int read_mapping(struct reader *rd, struct xvmd_config *c, const char *section)
{
	for (;;) {
		if (next(rd) < 0)
			return -1;
		if (rd->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		size_t line = rd->ev.start_mark.line + 1;
		if (rd->ev.type != YAML_SCALAR_EVENT)
			return fail(rd->err, rd->errlen, "line %zu: a key must be a plain name", line);
		char name[64];
		snprintf(name, sizeof(name), "%s", (const char *)rd->ev.data.scalar.value);
		if (next(rd) < 0)
			return -1;
		if (!section && is_section(name)) {
			if (rd->ev.type != YAML_MAPPING_START_EVENT)
				return fail(rd->err, rd->errlen, "line %zu: %s must be a mapping", line, name);
			if (read_mapping(rd, c, name) < 0)
				return -1;
			continue;
		}
		const struct key *k = find_key(section, name);
		if (!k)
			return fail(rd->err, rd->errlen, "line %zu: unknown setting '%s%s%s'", line,
				    section ? section : "", section ? "." : "", name);
		if (rd->ev.type != YAML_SCALAR_EVENT)
			return fail(rd->err, rd->errlen, "line %zu: %s must be a single value", line, name);
		if (set_key(c, k, (const char *)rd->ev.data.scalar.value, line, rd->err, rd->errlen) < 0)
			return -1;
	}
}

static int read_file(FILE *f, struct xvmd_config *c, char *err, size_t errlen)
{
	struct reader rd = { .err = err, .errlen = errlen };
	yaml_parser_initialize(&rd.yaml);
	yaml_parser_set_input_file(&rd.yaml, f);
	int r = 0;
	/* stream start, document start, then the top-level mapping */
	if ((r = next(&rd)) == 0 && (r = next(&rd)) == 0 && rd.ev.type == YAML_DOCUMENT_START_EVENT &&
	    (r = next(&rd)) == 0) {
		if (rd.ev.type == YAML_MAPPING_START_EVENT)
			r = read_mapping(&rd, c, NULL);
		else if (rd.ev.type != YAML_SCALAR_EVENT || rd.ev.data.scalar.length)
			r = fail(err, errlen, "the configuration must be a mapping of settings");
	}
	yaml_event_delete(&rd.ev);
	yaml_parser_delete(&rd.yaml);
	return r;
}

int config_load(const char *path, struct xvmd_config *cfg, char *err, size_t errlen)
{
	struct xvmd_config c;
	defaults(&c);
	int r = 0;
	if (path) {
		FILE *f = fopen(path, "r");
		if (!f) {
			config_clear(&c);
			return fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
		}
		r = read_file(f, &c, err, errlen);
		fclose(f);
	}
	if (r == 0 && strcmp(c.backend, "qemu") && strcmp(c.backend, "sim"))
		r = fail(err, errlen, "backend must be qemu or sim, not '%s'", c.backend);
	if (r == 0 && c.state_dir[0] != '/')
		r = fail(err, errlen, "state_dir must be an absolute path, not '%s'", c.state_dir);
	if (r == 0 && c.workers == 0)
		r = fail(err, errlen, "workers must be at least 1");
	if (r < 0) {
		config_clear(&c);
		return r;
	}
	*cfg = c;
	return 0;
}

void config_clear(struct xvmd_config *c)
{
	free(c->address);
	free(c->certificate);
	free(c->key);
	free(c->unix_socket);
	free(c->state_dir);
	free(c->backend);
	free(c->pam_service);
	free(c->pam_confdir);
	free(c->admin_group);
	memset(c, 0, sizeof(*c));
}

char *config_uri(const struct xvmd_config *c)
{
	char *uri;
	return asprintf(&uri, "%s://%s", strcmp(c->backend, "sim") == 0 ? "sim" : "local", c->state_dir) < 0 ? NULL
														 : uri;
}
