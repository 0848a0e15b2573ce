/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host tools SR drivers run (qemu-img, mkfs.ext4, mount, the LVM
 * commands): a failure becomes SR_BACKEND_FAILURE in the tool's own words.
 */
#pragma once

/* Runs argv (NULL-terminated; argv[0] is looked up in PATH). When it cannot
 * start, times out or exits non-zero, sets SR_BACKEND_FAILURE [what, the
 * tool's message]. *out: its stdout (free()); out may be NULL. */
int sr_tool_run(const char *what, unsigned timeout_s, char **out, const char *const *argv);

struct run_result;
/* The same for a tool already run (core/run.h): 0, with its stdout in *out, or the error. */
int sr_tool_result(const char *what, const char *tool, struct run_result *res, char **out);
