/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * References shown as UUIDs: each distinct reference is resolved once per
 * command (Class.get_uuid), so printing thousands of records that point at
 * one host costs one call.
 */
#pragma once

#include <xvm/xvm.h>

struct cli_refcache;

struct cli_refcache *cli_refcache_new(xvm_conn *conn);
void cli_refcache_free(struct cli_refcache *c);

/* A cli_ref_resolver: the UUID of `ref`, or "<not in database>" for a null or dangling one. */
const char *cli_refcache_uuid(void *cache, const char *cls, const char *ref);
