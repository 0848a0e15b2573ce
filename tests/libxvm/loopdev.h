/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block devices for the ext and lvm SR tests: loop devices over files in
 * the test's state dir, and shell commands to prepare and inspect them.
 * Tests run as root; their fini detaches what they attached and unmounts
 * what is mounted under the state dir, whatever the test's outcome.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A loop device over a new sparse file of `mib` MiB at path (free()). */
char *t_loop_attach(const char *path, unsigned mib);
/* Detaches it (if dev is not NULL) and frees dev. */
void t_loop_detach(char *dev);

/* Runs a shell command (printf format); its exit status. Output is discarded. */
int t_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs a shell command and returns its stdout (free()), trailing newlines cut; asserts it exits 0. */
char *t_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether a filesystem is mounted on path. */
bool t_mounted(const char *path);
/* Unmounts everything mounted at or under dir, deepest first. */
void t_umount_under(const char *dir);
/* Whether path exists. */
bool t_exists(const char *path);
