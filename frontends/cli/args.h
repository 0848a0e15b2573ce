/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command line as xe spells it: switches anywhere, then
 * `COMMAND name=value ... map-name:key=value`. Parsing is purely textual:
 * which names a command accepts is decided by the command table.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cli_options {
	const char *uri;   /* -c URI */
	/* xe's switches for a remote host (see target.h) */
	const char *server;        /* -s HOST */
	const char *port;          /* -p PORT */
	const char *user;          /* -u USER */
	const char *password;      /* -pw PASSWORD */
	const char *password_file; /* -pwf FILE */
	const char *ca;            /* --ca FILE */
	bool nossl;                /* --nossl */
	bool minimal;      /* --minimal */
	bool json;         /* --json */
	bool multiple;     /* --multiple */
	bool force;        /* --force */
	bool all;          /* --all (help) */
};

enum cli_switch_kind { CLI_SWITCH_FLAG, CLI_SWITCH_VALUE };

/* One switch: a new one (-s HOST, -pw PASS, ...) is one more table row. */
struct cli_switch {
	const char *name;
	enum cli_switch_kind kind;
	size_t offset;            /* of a bool (FLAG) or const char * (VALUE) in cli_options */
	const char *help;
};

/* NULL-name terminated. */
extern const struct cli_switch cli_switches[];
const struct cli_switch *cli_switch_lookup(const char *name);

struct cli_param {
	char *name;   /* as typed, e.g. "name-label", "other-config" */
	char *key;    /* "k" for other-config:k=v, else NULL */
	char *value;
};

struct cli_args {
	char *command;          /* the first word that is not a switch; NULL if none */
	struct cli_options opts;
	struct cli_param *params;
	size_t nparams;
	char **words;           /* bare words after the command (help's topic) */
	size_t nwords;
};

/*
 * Parses argv[1..argc-1] into *out (zeroed first). Returns 0, or -1 with a
 * one-line message in err on a malformed command line; *out is then empty.
 */
int cli_args_parse(int argc, char *const *argv, struct cli_args *out, char *err, size_t errlen);
void cli_args_clear(struct cli_args *a);

/* Formats a one-line message into err; returns -1 (for `return cli_errf(...)`). */
int cli_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The plain `name=value` parameter called name (no map key), or NULL. */
const struct cli_param *cli_args_get(const struct cli_args *a, const char *name);
