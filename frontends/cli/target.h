/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the CLI connects, as xe decides it: `-c URI`, or a remote host
 * given by `-s HOST [-p PORT] [--nossl]` with `-u USER` and `-pw PASS` or
 * `-pwf FILE`; what the command line leaves out comes from ~/.xvm
 * (`server=`, `port=`, `username=`, `password=`, `nossl=true`, `ca=`, one
 * per line, # for comments), as xe's ~/.xe. With neither, $XVM_URI, else
 * local:///var/lib/xvm.
 */
#pragma once

#include <stddef.h>

#include "args.h"

struct cli_target {
	char *uri;       /* NULL: the library's default */
	char *user;      /* NULL for local connections */
	char *password;
};

/* 0, or -1 with a one-line message in err (a usage error). */
int cli_target_resolve(const struct cli_options *o, struct cli_target *t, char *err, size_t errlen);
void cli_target_clear(struct cli_target *t);
