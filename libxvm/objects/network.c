/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network class: a virtual switch VIFs connect to. */
#include <inttypes.h>
#include <stdio.h>

#include "core/json_fields.h"
#include "network/network.h"
#include "objects/class.h"

static const char *const network_operations[] = { "attaching", NULL };

static const struct field_def network_fields[] = {
	UUID_FIELD,
	NAME_FIELDS,
	{ ALLOWED_OPS(network_operations) },
	{ CURRENT_OPS },
	{ REVERSE("VIFs", "VIF", "network", "Interfaces on the network") },
	{ INT("MTU", Q_RW, "Maximum transmission unit"), .default_json = "1500" },
	OTHER_CONFIG,
	{ STR("bridge", Q_RC, "Host bridge; empty for a user-mode network") },
	{ BOOL("managed", Q_RC, "True if xvm manages the bridge"), .default_json = "true" },
	TAGS,
	FIELDS_END
};

/* An MTU set later must be one a NIC can have, as at network.create. */
static int network_check(struct engine *e, const char *ref, struct json_object *rec)
{
	(void)e;
	(void)ref;
	int64_t mtu = rec_int(rec, "MTU");
	char text[24];
	snprintf(text, sizeof(text), "%" PRId64, mtu);
	return network_check_mtu(mtu, text);
}

const struct class_def class_network = {
	.info = { .name = "network", .description = "A virtual network" },
	.fields = network_fields,
	.check = network_check,
};
