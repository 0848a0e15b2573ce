/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * From records to a driver: an SR as this host reaches it (its record and
 * this host's PBD), and the per-SR lock that keeps two processes from
 * changing one SR's storage at once.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "storage/sr_driver.h"

struct engine;

enum sr_open_flags {
	SR_OPEN_PLUGGED = 1u << 0,  /* this host's PBD must be plugged (SR_HAS_NO_PBDS otherwise) */
};

/* Inside the caller's transaction: reads the SR and this host's PBD and opens the driver. */
int sr_handle_open(struct engine *e, const char *sr_ref, unsigned flags, struct sr_handle *ret);
/* A handle for storage that has no records yet (SR.create, PBD.plug of a new PBD). */
int sr_handle_open_config(struct engine *e, const char *sr_ref, const char *uuid, const struct sr_driver *drv,
			  struct json_object *device_config, struct json_object *sm_config, struct sr_handle *ret);
void sr_handle_close(struct sr_handle *h);

/* This host's PBD of the SR: *ret NULL when there is none. Inside a transaction. */
int sr_host_pbd(struct engine *e, const char *sr_ref, char **ret);

/* Blocks until this process holds the SR's storage lock. Returns a descriptor for sr_unlock. */
int sr_lock(struct engine *e, const char *sr_uuid);
void sr_unlock(int fd);

/* Checks device_config against the driver's keys: SR_BACKEND_FAILURE naming a missing or unknown key. */
int sr_check_device_config(const struct sr_driver *drv, struct json_object *device_config);
