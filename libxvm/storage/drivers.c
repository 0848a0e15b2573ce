/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SR types there are. */
#include <string.h>

#include "storage/sr_driver.h"

static const struct sr_driver *const drivers[] = { &sr_driver_file, &sr_driver_ext, &sr_driver_iso, &sr_driver_lvm,
						    &sr_driver_nfs, &sr_driver_udev };

const struct sr_driver *sr_driver_lookup(const char *type)
{
	for (size_t i = 0; type && i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->type, type) == 0)
			return drivers[i];
	return NULL;
}

const char *sr_driver_types(void)
{
	return "file, ext, iso, lvm, nfs, udev";
}
