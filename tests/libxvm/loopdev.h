/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block devices for the ext and lvm SR tests: loop devices over files in
 * the test's state dir, shell commands to prepare and inspect them, and
 * the SR calls the tests make on them.
 * Tests run as root; their fini detaches what they attached and unmounts
 * what is mounted under the state dir, whatever the test's outcome.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <xvm/xvm.h>

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

/* SR.create of `type` with device_config (a JSON object's text): the call's
 * result; *ref the SR (free()) when it succeeds (ref may be NULL). */
int t_sr_create(xvm_conn *c, const char *type, const char *device_config_json, char **ref);
/* SR.create of `type` with device_config:device=device. */
int t_sr_create_on(xvm_conn *c, const char *type, const char *device, char **ref);
/* SR.introduce of `type` with uuid and a PBD with device_config:device=device:
 * the PBD (free()); *sr the SR (free()). */
char *t_sr_introduce(xvm_conn *c, const char *type, const char *uuid, const char *device, char **sr);
/* Checks that SR.create of `type` on device fails with SR_BACKEND_FAILURE
 * [device, device] and a message naming it and saying `why`. */
void t_check_bad_device(xvm_conn *c, const char *type, const char *device, const char *why);
