/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "xvm/version.h"

const char *xvm_version(void)
{
	return XVM_VERSION;
}
