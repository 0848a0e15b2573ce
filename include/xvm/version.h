/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version at run time, e.g. "0.1.0". */
const char *xvm_version(void);

#ifdef __cplusplus
}
#endif
