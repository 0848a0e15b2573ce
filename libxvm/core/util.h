/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers: numbers, UUIDs, references, XenAPI datetimes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define XVM_NULL_REF "OpaqueRef:NULL"
#define XVM_REF_PREFIX "OpaqueRef:"
#define XVM_DATETIME_ZERO "19700101T00:00:00Z"
/* "OpaqueRef:" + a UUID + NUL */
#define XVM_REF_BUFLEN (10 + 36 + 1)
#define XVM_UUID_BUFLEN 37
#define XVM_DATETIME_BUFLEN 19

/* Whole string must be a number; 0 or -EINVAL/-ERANGE. */
int parse_int64(const char *s, int64_t *ret);
int parse_double(const char *s, double *ret);

void uuid_generate_str(char out[XVM_UUID_BUFLEN]);
bool uuid_valid(const char *s);
/* A fresh reference "OpaqueRef:<uuid>". */
void ref_generate(char out[XVM_REF_BUFLEN]);
/* "OpaqueRef:" followed by something; OpaqueRef:NULL counts as valid. */
bool ref_valid(const char *s);
bool ref_is_null(const char *s);

/* XenAPI datetime, "20261125T17:24:18Z", UTC. */
void datetime_format(time_t t, char out[XVM_DATETIME_BUFLEN]);
bool datetime_valid(const char *s);

/* Creates dir and its parents with mode 0700 where missing. */
int mkdir_p(const char *dir);
