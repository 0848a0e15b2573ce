/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disk images named by URL rather than by local path: nfs://HOST/EXPORT/PATH,
 * which QEMU opens with its own nfs block driver (libnfs), so that no kernel
 * mount is needed. A path is a URL when it starts with SCHEME://; any scheme
 * other than nfs is refused, so that a typo never becomes a local file name.
 */
#pragma once

#include <stdbool.h>

#include "hypercall.h"

struct hv_nfs_url {
	char host[256];              /* a name, an IPv4 address or an IPv6 one (no brackets) */
	char path[XVM_HC_PATH_MAX];  /* /EXPORT/PATH/FILE, %XX escapes decoded */
};

/* SCHEME:// at the start, SCHEME as RFC 3986 spells one. */
bool hv_path_is_url(const char *path);

/* Parses an nfs:// URL; -EINVAL with a detail naming `what` otherwise. */
int hv_nfs_url_parse(const char *what, const char *url, struct hv_nfs_url *ret);

/* Whether two image names are one image: the same URL, or paths of one file. */
bool hv_same_image(const char *a, const char *b);
