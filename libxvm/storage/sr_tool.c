/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "storage/sr_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"
#include "core/run.h"

/* What the tool said, on one line: its stderr lines, trimmed, joined by
 * "; ", without the "tool: " prefix some put first, and without two
 * warnings of LVM's tools that say nothing of the failure: of descriptors
 * their caller leaks to them, and that activation is off (for reports). */
static char *message_of(const char *tool, const char *err)
{
	const char *base = strrchr(tool, '/') ? strrchr(tool, '/') + 1 : tool;
	size_t blen = strlen(base);
	char *msg = malloc(2 * strlen(err) + 1); /* "; " for each newline */
	if (!msg)
		return NULL;
	size_t n = 0;
	for (const char *line = err; *line;) {
		size_t len = strcspn(line, "\n");
		const char *next = line[len] ? line + len + 1 : line + len;
		while (len && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		if (len > blen + 1 && strncmp(line, base, blen) == 0 && line[blen] == ':' && line[blen + 1] == ' ') {
			line += blen + 2;
			len -= blen + 2;
		}
		bool noise = (strncmp(line, "File descriptor ", 16) == 0 && memmem(line, len, " leaked on ", 11)) ||
			     strncmp(line, "WARNING: Activation disabled.", 29) == 0;
		if (len && !noise) {
			if (n) {
				memcpy(msg + n, "; ", 2);
				n += 2;
			}
			memcpy(msg + n, line, len);
			n += len;
		}
		line = next;
	}
	msg[n] = 0;
	return msg;
}

int sr_tool_result(const char *what, const char *tool, struct run_result *res, char **out)
{
	if (res->status != 0) {
		char *msg = res->timed_out ? NULL : message_of(tool, res->err);
		char failed[64];
		snprintf(failed, sizeof(failed), "%s exited with status %d", tool, res->status);
		const char *why = res->timed_out ? "timed out" : msg && *msg ? msg : failed;
		int r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, why, "%s: %s", what, why);
		free(msg);
		return r;
	}
	if (out) {
		*out = res->out;
		res->out = NULL;
	}
	return 0;
}

int sr_tool_run(const char *what, unsigned timeout_s, char **out, const char *const *argv)
{
	struct run_result res;
	int r = run_tool(argv, timeout_s, &res);
	if (r < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, strerror(-r), "%s: cannot run %s: %s", what, argv[0],
			    strerror(-r));
	r = sr_tool_result(what, argv[0], &res, out);
	run_result_free(&res);
	return r;
}
