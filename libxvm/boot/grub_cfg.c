/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "boot/grub_cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 32
#define MAX_ENTRIES 256

struct words {
	char *w[MAX_WORDS];
	int n;
	const char *rest[MAX_WORDS]; /* the line's raw text from word i on */
};

struct node {
	int parent;      /* -1 at the top */
	int submenu;
	char *title, *id, *linux_path, *args, *initrd;
};

/* Splits a line into shell-like words (quotes removed), into buf. */
static void split(const char *line, char *buf, struct words *ws)
{
	const char *p = line;
	char *o = buf;
	ws->n = 0;
	while (ws->n < MAX_WORDS) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		ws->rest[ws->n] = p;
		ws->w[ws->n++] = o;
		while (*p && !isspace((unsigned char)*p)) {
			if (*p == '\'' || *p == '"') {
				char q = *p++;
				while (*p && *p != q)
					*o++ = *p++;
				if (*p)
					p++;
			} else {
				*o++ = *p++;
			}
		}
		*o++ = 0;
	}
}

static char *dup_trimmed(const char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static void node_free(struct node *n)
{
	free(n->title), free(n->id), free(n->linux_path), free(n->args), free(n->initrd);
}

/* A menuentry/submenu line: title first, then options; the id follows --id
 * or $menuentry_id_option. */
static int add_node(struct node *nodes, int *count, int parent, const struct words *ws, int submenu)
{
	if (*count == MAX_ENTRIES || ws->n < 2)
		return -EINVAL;
	struct node *n = &nodes[(*count)++];
	*n = (struct node){ .parent = parent, .submenu = submenu, .title = strdup(ws->w[1]) };
	for (int i = 2; i + 1 < ws->n; i++)
		if (!strcmp(ws->w[i], "--id") || !strcmp(ws->w[i], "$menuentry_id_option"))
			n->id = strdup(ws->w[i + 1]);
	return n->title ? 0 : -ENOMEM;
}

static int body_line(struct node *n, const struct words *ws)
{
	const char *cmd = ws->w[0];
	if ((!strcmp(cmd, "linux") || !strcmp(cmd, "linux16") || !strcmp(cmd, "linuxefi")) && ws->n >= 2 &&
	    !n->linux_path) {
		n->linux_path = strdup(ws->w[1]);
		n->args = ws->n > 2 ? dup_trimmed(ws->rest[2]) : strdup("");
		return n->linux_path && n->args ? 0 : -ENOMEM;
	}
	if ((!strcmp(cmd, "initrd") || !strcmp(cmd, "initrd16") || !strcmp(cmd, "initrdefi")) && ws->n >= 2 &&
	    !n->initrd) {
		n->initrd = strdup(ws->w[1]);
		return n->initrd ? 0 : -ENOMEM;
	}
	return 0;
}

/* The child of parent that part names: an index among its siblings, a title or an id. */
static int find_child(const struct node *nodes, int count, int parent, const char *part)
{
	char *end;
	long idx = strtol(part, &end, 10);
	int numeric = *part && !*end, k = 0;
	for (int i = 0; i < count; i++) {
		if (nodes[i].parent != parent)
			continue;
		if (numeric ? k == idx : !strcmp(nodes[i].title, part) || (nodes[i].id && !strcmp(nodes[i].id, part)))
			return i;
		k++;
	}
	return -1;
}

static int resolve(const struct node *nodes, int count, const char *def, const char **why)
{
	char *copy = strdup(def ? def : "0"), *save = NULL;
	if (!copy)
		return -ENOMEM;
	int at = -1;
	for (char *part = strtok_r(copy, ">", &save); part; part = strtok_r(NULL, ">", &save))
		if ((at = find_child(nodes, count, at, part)) < 0)
			break;
	free(copy);
	if (at < 0) {
		*why = count ? "its default entry names no menu entry" : "it has no menu entry";
		return -ENOENT;
	}
	if (nodes[at].submenu) {
		*why = "its default entry is a submenu";
		return -ENOENT;
	}
	if (!nodes[at].linux_path) {
		*why = "its default entry has no linux line";
		return -EINVAL;
	}
	return at;
}

int grub_cfg_default(const char *text, struct grub_entry *entry, const char **why)
{
	struct node *nodes = calloc(MAX_ENTRIES, sizeof(*nodes));
	char *line = NULL, *buf = NULL, *def = NULL;
	int count = 0, r = nodes ? 0 : -ENOMEM;
	int stack[MAX_WORDS], depth = 0; /* open blocks: a node, or -1 for other braces */
	for (const char *p = text; r == 0 && *p;) {
		size_t n = strcspn(p, "\n");
		free(line), free(buf);
		line = strndup(p, n);
		buf = malloc(n + MAX_WORDS + 1);
		p += n + (p[n] == '\n');
		if (!line || !buf) {
			r = -ENOMEM;
			break;
		}
		struct words ws;
		split(line, buf, &ws);
		if (ws.n == 0)
			continue;
		int cur = depth ? stack[depth - 1] : -1;
		int opens = !strcmp(ws.w[ws.n - 1], "{");
		int block = -1;
		if (!strcmp(ws.w[0], "}")) {
			if (depth)
				depth--;
			continue;
		}
		if (!strcmp(ws.w[0], "menuentry") || !strcmp(ws.w[0], "submenu")) {
			if ((r = add_node(nodes, &count, cur, &ws, ws.w[0][0] == 's')) == 0)
				block = count - 1;
		} else if (cur >= 0 && !nodes[cur].submenu) {
			r = body_line(&nodes[cur], &ws);
		} else if (depth == 0 && !strcmp(ws.w[0], "set") && ws.n >= 2 && !strncmp(ws.w[1], "default=", 8) &&
			   !strchr(ws.w[1], '$')) {
			free(def);
			if (!(def = strdup(ws.w[1] + 8)))
				r = -ENOMEM;
		}
		if (opens && depth < MAX_WORDS)
			stack[depth++] = block;
	}
	free(line), free(buf);
	if (r == -EINVAL)
		*why = "a menu entry has no title";
	int at = r < 0 ? r : resolve(nodes, count, def, why);
	if (at >= 0) {
		struct node *n = &nodes[at];
		*entry = (struct grub_entry){ .title = n->title, .linux_path = n->linux_path, .args = n->args,
					      .initrd = n->initrd };
		*n = (struct node){ 0 };
	}
	for (int i = 0; i < count; i++)
		node_free(&nodes[i]);
	free(nodes);
	free(def);
	return at < 0 ? at : 0;
}

void grub_entry_free(struct grub_entry *e)
{
	free(e->title), free(e->linux_path), free(e->args), free(e->initrd);
	*e = (struct grub_entry){ 0 };
}
