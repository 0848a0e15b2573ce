/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command-line splitter: switches, name=value, map:key=value, bad forms. */
#include <criterion/criterion.h>
#include <string.h>

#include "args.h"

#define PARSE(a, ...) parse_words(a, (char *[]){ "xvm", __VA_ARGS__, NULL })

static char err[256];

static int parse_words(struct cli_args *a, char **words)
{
	int n = 0;
	while (words[n])
		n++;
	err[0] = '\0';
	return cli_args_parse(n, words, a, err, sizeof(err));
}

Test(args, command_params_and_switches)
{
	struct cli_args a;
	cr_assert_eq(PARSE(&a, "--minimal", "vm-list", "power-state=running", "-c", "sim:///tmp/x",
			   "other-config:k=v=w", "name-description=", "--json"), 0, "%s", err);
	cr_assert_str_eq(a.command, "vm-list");
	cr_assert(a.opts.minimal && a.opts.json);
	cr_assert(!a.opts.force && !a.opts.multiple);
	cr_assert_str_eq(a.opts.uri, "sim:///tmp/x");
	cr_assert_eq(a.nparams, 3);
	cr_assert_str_eq(a.params[0].name, "power-state");
	cr_assert_null(a.params[0].key);
	cr_assert_str_eq(a.params[0].value, "running");
	cr_assert_str_eq(a.params[1].name, "other-config");
	cr_assert_str_eq(a.params[1].key, "k");
	cr_assert_str_eq(a.params[1].value, "v=w");   /* only the first '=' splits */
	cr_assert_str_eq(a.params[2].value, "");
	cr_assert_eq(cli_args_get(&a, "power-state"), &a.params[0]);
	cr_assert_null(cli_args_get(&a, "other-config"));   /* keyed: not a plain parameter */
	cli_args_clear(&a);
}

Test(args, bare_words_after_command)
{
	struct cli_args a;
	cr_assert_eq(PARSE(&a, "help", "vm-start", "--all"), 0);
	cr_assert_str_eq(a.command, "help");
	cr_assert_eq(a.nwords, 1);
	cr_assert_str_eq(a.words[0], "vm-start");
	cr_assert(a.opts.all);
	cli_args_clear(&a);
}

Test(args, empty_command_line)
{
	struct cli_args a;
	cr_assert_eq(PARSE(&a, NULL), 0);
	cr_assert_null(a.command);
	cr_assert_eq(a.nparams, 0);
	cli_args_clear(&a);
}

Test(args, every_switch_is_a_table_entry)
{
	for (const struct cli_switch *s = cli_switches; s->name; s++) {
		cr_assert_eq(cli_switch_lookup(s->name), s);
		cr_assert_not_null(s->help);
	}
	cr_assert_null(cli_switch_lookup("--nope"));
}

struct bad { const char *word; const char *says; };

Test(args, malformed)
{
	static const struct bad cases[] = {
		{ "other-config:=x", "missing map key" },
		{ "=x", "missing parameter name" },
		{ ":k=x", "missing parameter name" },
		{ "--bogus", "unknown switch" },
		{ "-c", "needs a value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_args a;
		cr_assert_eq(PARSE(&a, "vm-list", (char *)cases[i].word), -1, "%s parsed", cases[i].word);
		cr_assert(strstr(err, cases[i].says), "'%s': got '%s'", cases[i].word, err);
		cr_assert_null(a.command);   /* left empty on failure */
	}
}

Test(args, parameter_before_command)
{
	struct cli_args a;
	cr_assert_eq(PARSE(&a, "uuid=x", "vm-list"), -1);
	cr_assert(strstr(err, "expected a command"));
}

Test(args, duplicate_parameter)
{
	struct cli_args a;
	cr_assert_eq(PARSE(&a, "vm-param-set", "name-label=a", "name-label=b"), -1);
	cr_assert(strstr(err, "given twice"), "%s", err);
	cr_assert_eq(PARSE(&a, "vm-param-set", "other-config:a=1", "other-config:a=2"), -1);
	/* different keys of one map are fine */
	cr_assert_eq(PARSE(&a, "vm-param-set", "other-config:a=1", "other-config:b=2"), 0, "%s", err);
	cr_assert_eq(a.nparams, 2);
	cli_args_clear(&a);
}
