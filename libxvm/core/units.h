/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* "512MiB", "2GiB", "1024KiB", "1TiB", "4096" (bytes); also KB/MB/GB as
 * powers of 1000, as xe takes them. 0, or -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t *ret);
