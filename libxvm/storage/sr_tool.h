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
