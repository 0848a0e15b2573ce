/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Splits the command line into switches, the command and its parameters. */
#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT(field) offsetof(struct cli_options, field)

const struct cli_switch cli_switches[] = {
	{ "-c", CLI_SWITCH_VALUE, OPT(uri), "connect to URI (default: $XVM_URI, else local:///var/lib/xvm)" },
	{ "-s", CLI_SWITCH_VALUE, OPT(server), "the xvmd host to manage (xvm://HOST); defaults from ~/.xvm" },
	{ "-p", CLI_SWITCH_VALUE, OPT(port), "its port (default 443, or 80 with --nossl)" },
	{ "-u", CLI_SWITCH_VALUE, OPT(user), "the user to log in as (default root)" },
	{ "-pw", CLI_SWITCH_VALUE, OPT(password), "the password, or an API token (xvm token-create)" },
	{ "-pwf", CLI_SWITCH_VALUE, OPT(password_file), "read the password from the first line of FILE" },
	{ "--nossl", CLI_SWITCH_FLAG, OPT(nossl), "plain HTTP to the host (xvm+tcp://)" },
	{ "--ca", CLI_SWITCH_VALUE, OPT(ca), "trust this CA or certificate file for the host's TLS" },
	{ "--minimal", CLI_SWITCH_FLAG, OPT(minimal), "print only the values, comma-separated" },
	{ "--json", CLI_SWITCH_FLAG, OPT(json), "print records and results as JSON" },
	{ "--multiple", CLI_SWITCH_FLAG, OPT(multiple), "let a selector match several objects" },
	{ "--force", CLI_SWITCH_FLAG, OPT(force), "hard shutdown/reboot; skip soft checks and prompts" },
	{ "--all", CLI_SWITCH_FLAG, OPT(all), "help: describe every command" },
	{ NULL, 0, 0, NULL }
};

const struct cli_switch *cli_switch_lookup(const char *name)
{
	for (const struct cli_switch *s = cli_switches; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

int cli_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int same_param(const struct cli_param *p, const char *name, const char *key)
{
	if (strcmp(p->name, name) != 0)
		return 0;
	if (!p->key || !key)
		return !p->key && !key;
	return strcmp(p->key, key) == 0;
}

/* `name=value` or `name:key=value`; the value may be empty, names and keys may not. */
static int add_param(struct cli_args *a, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return cli_errf(err, errlen, "expected name=value, got '%s'", arg);
	const char *colon = memchr(arg, ':', (size_t)(eq - arg));
	const char *name_end = colon ? colon : eq;
	if (name_end == arg)
		return cli_errf(err, errlen, "missing parameter name in '%s'", arg);
	if (colon && colon + 1 == eq)
		return cli_errf(err, errlen, "missing map key in '%s' (expected name:key=value)", arg);

	struct cli_param p = {
		.name = strndup(arg, (size_t)(name_end - arg)),
		.key = colon ? strndup(colon + 1, (size_t)(eq - colon - 1)) : NULL,
		.value = strdup(eq + 1),
	};
	for (size_t i = 0; i < a->nparams; i++)
		if (same_param(&a->params[i], p.name, p.key)) {
			free(p.name), free(p.key), free(p.value);
			return cli_errf(err, errlen, "parameter '%.*s' given twice", (int)(eq - arg), arg);
		}
	struct cli_param *n = realloc(a->params, (a->nparams + 1) * sizeof(*n));
	if (!n || !p.name || !p.value || (colon && !p.key)) {
		free(p.name), free(p.key), free(p.value);
		if (n)
			a->params = n;
		return cli_errf(err, errlen, "out of memory");
	}
	a->params = n;
	a->params[a->nparams++] = p;
	return 0;
}

static int add_word(struct cli_args *a, const char *arg, char *err, size_t errlen)
{
	char **n = realloc(a->words, (a->nwords + 1) * sizeof(*n));
	if (!n)
		return cli_errf(err, errlen, "out of memory");
	a->words = n;
	if (!(a->words[a->nwords] = strdup(arg)))
		return cli_errf(err, errlen, "out of memory");
	a->nwords++;
	return 0;
}

static int parse(int argc, char *const *argv, struct cli_args *a, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (arg[0] == '-') {
			/* Parameters always start with a name, so a leading '-' is a switch. */
			const struct cli_switch *s = cli_switch_lookup(arg);
			if (!s)
				return cli_errf(err, errlen, "unknown switch '%s'", arg);
			char *field = (char *)&a->opts + s->offset;
			if (s->kind == CLI_SWITCH_FLAG) {
				*(bool *)field = true;
			} else {
				if (i + 1 >= argc)
					return cli_errf(err, errlen, "switch '%s' needs a value", arg);
				*(const char **)field = argv[++i];
			}
		} else if (!a->command) {
			if (strchr(arg, '='))
				return cli_errf(err, errlen, "expected a command before '%s'", arg);
			if (!(a->command = strdup(arg)))
				return cli_errf(err, errlen, "out of memory");
		} else if (strchr(arg, '=')) {
			if (add_param(a, arg, err, errlen) < 0)
				return -1;
		} else if (add_word(a, arg, err, errlen) < 0) {
			return -1;
		}
	}
	return 0;
}

int cli_args_parse(int argc, char *const *argv, struct cli_args *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (parse(argc, argv, out, err, errlen) < 0) {
		cli_args_clear(out);
		return -1;
	}
	return 0;
}

void cli_args_clear(struct cli_args *a)
{
	free(a->command);
	for (size_t i = 0; i < a->nparams; i++)
		free(a->params[i].name), free(a->params[i].key), free(a->params[i].value);
	free(a->params);
	for (size_t i = 0; i < a->nwords; i++)
		free(a->words[i]);
	free(a->words);
	memset(a, 0, sizeof(*a));
}

const struct cli_param *cli_args_get(const struct cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->nparams; i++)
		if (!a->params[i].key && strcmp(a->params[i].name, name) == 0)
			return &a->params[i];
	return NULL;
}
