/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hidden entry behind bash completion:
 *
 *   xvm --complete CWORD WORD0 WORD1 ...
 *
 * prints, one per line, the candidates for WORDS[CWORD]: switches, command
 * names, the command's parameter names (with '='), field names after
 * params= and param-name=, enum and bool values, and live UUIDs and
 * name-labels after vm=, uuid=, template=, sr-uuid=, vdi-uuid=, network-uuid=, cd-name=...;
 * map parameters (device-config:) and image formats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "convert.h"

struct completion {
	const char *cur;          /* the word being completed */
	const char *uri;          /* -c URI among the words, else NULL */
	const struct cli_command *cmd;
	const struct xvm_class_info *cls;
	char **words;
	int nwords, cword;
};

/* Prints prefix+cand if it extends the word being completed. */
static void emit(const struct completion *c, const char *prefix, const char *cand)
{
	char *full;
	if (asprintf(&full, "%s%s", prefix, cand) < 0)
		return;
	if (strncmp(full, c->cur, strlen(c->cur)) == 0)
		puts(full);
	free(full);
}

static bool already_given(const struct completion *c, const char *name)
{
	size_t n = strlen(name);
	for (int i = 1; i < c->nwords; i++)
		if (i != c->cword && strncmp(c->words[i], name, n) == 0 && c->words[i][n] == '=')
			return true;
	return false;
}

static void complete_params(const struct completion *c)
{
	char buf[160];
	for (int pass = 0; pass < 2; pass++)
		for (const char *const *p = pass ? c->cmd->optional : c->cmd->reqd; *p; p++)
			if (!already_given(c, *p)) {
				snprintf(buf, sizeof(buf), "%s=", *p);
				emit(c, "", buf);
			}
	for (const char *const *m = c->cmd->maps; m && *m; m++) {
		snprintf(buf, sizeof(buf), "%s:", *m);
		emit(c, "", buf);
	}
	if (!c->cls || !(c->cmd->flags & (CLI_CMD_FILTERS | CLI_CMD_ASSIGN)))
		return;
	for (size_t i = 0; i < c->cls->nfields; i++) {
		const struct xvm_field_info *f = xvm_class_field_at(c->cls, i);
		if ((c->cmd->flags & CLI_CMD_ASSIGN) && f->qualifier != XVM_QUAL_RW)
			continue;
		char *name = cli_field_name(f);
		snprintf(buf, sizeof(buf), "%s%s", name, f->type == XVM_TYPE_MAP ? ":" : "=");
		if (f->type == XVM_TYPE_MAP || !already_given(c, name))
			emit(c, "", buf);
		free(name);
	}
}

/* Field names after params= (a comma-separated list: complete its last element) or param-name=. */
static void complete_field_names(const struct completion *c, const char *eq, bool list)
{
	const char *last = list ? strrchr(eq, ',') : NULL;
	size_t plen = (size_t)((last ? last : eq) - c->cur) + 1;
	char *prefix = strndup(c->cur, plen);
	if (list && !last)
		emit(c, prefix, "all");
	for (size_t i = 0; prefix && i < c->cls->nfields; i++) {
		char *name = cli_field_name(xvm_class_field_at(c->cls, i));
		emit(c, prefix, name);
		free(name);
	}
	free(prefix);
}

enum shown { SHOW_UUIDS = 1, SHOW_NAMES = 2 };

/* UUIDs and/or name-labels of live objects, one get_all_records call. */
static void complete_objects(const struct completion *c, const char *prefix, const char *cls,
			     int templates, unsigned shown)
{
	xvm_conn *conn;
	struct json_object *all;
	if (xvm_connect(c->uri, 0, &conn) < 0)
		return;
	if (xvm_object_get_all_records(conn, cls, &all) == 0) {
		json_object_object_foreach(all, ref, rec) {
			struct json_object *v;
			(void)ref;
			if (templates >= 0 && json_object_object_get_ex(rec, "is_a_template", &v) &&
			    json_object_get_boolean(v) != templates)
				continue;
			if ((shown & SHOW_UUIDS) && json_object_object_get_ex(rec, "uuid", &v))
				emit(c, prefix, json_object_get_string(v));
			if ((shown & SHOW_NAMES) && json_object_object_get_ex(rec, "name_label", &v))
				emit(c, prefix, json_object_get_string(v));
		}
		json_object_put(all);
	}
	xvm_disconnect(conn);
}

/* Parameters that name objects of another class than the command's. */
static const struct {
	const char *param, *cls;
	int templates;
	unsigned shown;
} object_params[] = {
	{ "template", "VM", 1, SHOW_UUIDS | SHOW_NAMES },
	{ "vm-uuid", "VM", 0, SHOW_UUIDS },
	{ "sr-uuid", "SR", -1, SHOW_UUIDS },
	{ "vdi-uuid", "VDI", -1, SHOW_UUIDS },
	{ "host-uuid", "host", -1, SHOW_UUIDS },
	{ "network-uuid", "network", -1, SHOW_UUIDS },
	{ "cd-name", "VDI", -1, SHOW_NAMES },
};

static const char *const image_formats[] = { "raw", "qcow2", "vhd", "vmdk", NULL };

static void complete_value(const struct completion *c, const char *eq)
{
	char *name = strndup(c->cur, (size_t)(eq - c->cur));
	char *prefix = strndup(c->cur, (size_t)(eq - c->cur) + 1);
	const struct xvm_field_info *f = c->cls ? cli_field_lookup(c->cls, name) : NULL;
	bool own = name && cli_command_has_param(c->cmd, name);
	if (!name || !prefix)
		goto out;
	if (own && strcmp(name, "params") == 0 && c->cls)
		complete_field_names(c, eq, true);
	else if (own && strcmp(name, "param-name") == 0 && c->cls)
		complete_field_names(c, eq, false);
	else if (own && strcmp(name, "uuid") == 0 && c->cls)
		complete_objects(c, prefix, c->cls->name, -1, SHOW_UUIDS);
	else if (own && (c->cmd->flags & CLI_CMD_SELECT) && strcmp(name, cli_command_selector(c->cmd)) == 0)
		complete_objects(c, prefix, c->cls->name, 0, SHOW_UUIDS | SHOW_NAMES);
	else if ((own && strcmp(name, "paused") == 0) || (f && f->type == XVM_TYPE_BOOL))
		emit(c, prefix, "true"), emit(c, prefix, "false");
	else if (own && strcmp(name, "format") == 0)
		for (const char *const *v = image_formats; *v; v++)
			emit(c, prefix, *v);
	else if (f && f->type == XVM_TYPE_ENUM)
		for (const char *const *v = f->enum_values; v && *v; v++)
			emit(c, prefix, *v);
	else if (own)
		for (size_t i = 0; i < sizeof(object_params) / sizeof(object_params[0]); i++)
			if (strcmp(name, object_params[i].param) == 0)
				complete_objects(c, prefix, object_params[i].cls, object_params[i].templates,
						 object_params[i].shown);
out:
	free(name);
	free(prefix);
}

int cli_complete(int argc, char **argv)
{
	if (argc < 2)
		return CLI_EXIT_USAGE;
	struct completion c = { .cword = atoi(argv[0]), .words = argv + 1, .nwords = argc - 1 };
	if (c.cword < 1)
		return CLI_EXIT_OK;
	c.cur = c.cword < c.nwords ? c.words[c.cword] : "";
	for (int i = 1; i < c.cword && i < c.nwords; i++) {
		const struct cli_switch *s = c.words[i][0] == '-' ? cli_switch_lookup(c.words[i]) : NULL;
		if (s && s->kind == CLI_SWITCH_VALUE) {
			if (++i == c.cword)
				return CLI_EXIT_OK;   /* a switch's value: nothing to offer */
			if (strcmp(s->name, "-c") == 0 && i < c.nwords)
				c.uri = c.words[i];
		} else if (!s && !c.cmd) {
			c.cmd = cli_command_lookup(c.words[i]);
			if (!c.cmd)
				return CLI_EXIT_OK;
		}
	}
	if (c.cur[0] == '-') {
		for (const struct cli_switch *s = cli_switches; s->name; s++)
			emit(&c, "", s->name);
		return CLI_EXIT_OK;
	}
	if (!c.cmd || c.cmd->flags & CLI_CMD_WORDS) {
		for (const struct cli_command *cmd = cli_commands; cmd->name; cmd++)
			emit(&c, "", cmd->name);
		return CLI_EXIT_OK;
	}
	c.cls = c.cmd->cls ? xvm_class_lookup(c.cmd->cls) : NULL;
	const char *eq = strchr(c.cur, '=');
	if (eq)
		complete_value(&c, eq);
	else
		complete_params(&c);
	return CLI_EXIT_OK;
}
