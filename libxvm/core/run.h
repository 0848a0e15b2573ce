/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running a host tool (qemu-img, mkfs.ext4, the LVM commands): argv as
 * given, no shell, stdin from /dev/null, its output captured (bounded) and
 * a time-out after which it is killed. The library never leaves a child
 * behind: every one is waited for.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define RUN_OUTPUT_MAX (1u << 20)

struct run_result {
	int status;      /* exit code; 128 + signal when killed */
	char *out;       /* stdout, NUL-terminated (free()) */
	char *err;       /* stderr, NUL-terminated, trailing newlines cut (free()) */
	bool timed_out;
};

/* 0 when the tool ran (whatever its exit code), or a negative errno when it
 * could not be started. argv[0] is looked up in PATH. */
int run_tool(const char *const *argv, unsigned timeout_s, struct run_result *ret);
/* Runs n tools at once (independent steps of one operation) and waits for
 * all; ret[k] is argvs[k]'s. A tool that cannot start fails the call, and
 * the others are killed. */
int run_tools(size_t n, const char *const *const *argvs, unsigned timeout_s, struct run_result *ret);
/* run_tool, calling watch with the stdout read so far (NUL-terminated) each
 * time more comes: a tool's progress report. */
int run_tool_watched(const char *const *argv, unsigned timeout_s, void (*watch)(const char *out, void *data),
		     void *data, struct run_result *ret);
void run_result_free(struct run_result *r);
