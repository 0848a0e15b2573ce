/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network methods of the method table: XenAPI's network and VIF calls. */
#include <stdlib.h>

#include "core/error_internal.h"
#include "core/methods.h"
#include "network/network.h"

typedef int (*create_fn)(struct engine *e, struct json_object *record, char **ret);
typedef int (*on_ref_fn)(struct engine *e, const char *ref);

/* Class.create(record) -> ref */
static int create(struct json_object *args, struct json_object **result, struct engine *e, create_fn fn)
{
	struct json_object *rec = json_object_array_get_idx(args, 0);
	if (!json_object_is_type(rec, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "record", "record must be a map");
	char *ref = NULL;
	int r = fn(e, rec, &ref);
	if (r == 0)
		*result = json_object_new_string(ref);
	free(ref);
	return r;
}

/* Class.X(self) -> void */
static int on_ref(struct json_object *args, struct json_object **result, struct engine *e, on_ref_fn fn)
{
	const char *ref;
	int r = arg_string(args, 0, "self", &ref);
	*result = NULL;
	return r < 0 ? r : fn(e, ref);
}

#define CREATE(name, fn)                                                                           \
	static int m_##name(struct engine *e, struct json_object *args, struct json_object **result) \
	{                                                                                          \
		return create(args, result, e, fn);                                                \
	}
#define ON_REF(name, fn)                                                                           \
	static int m_##name(struct engine *e, struct json_object *args, struct json_object **result) \
	{                                                                                          \
		return on_ref(args, result, e, fn);                                                \
	}
CREATE(network_create, network_create)
CREATE(vif_create, vif_create)
ON_REF(network_destroy, network_destroy)
ON_REF(vif_destroy, vif_destroy)
ON_REF(vif_plug, vif_plug)
ON_REF(vif_unplug, vif_unplug)

const struct method network_methods[] = {
	{ "network.create", m_network_create, 1,
	  "A new network (record: name_label, name_description, MTU, other_config, bridge: an existing host "
	  "bridge, or none for a private bridge xvm manages) -> network" },
	{ "network.destroy", m_network_destroy, 1, "Deletes a network no VIF is on (network)" },
	{ "VIF.create", m_vif_create, 1,
	  "A new interface of a VM (record: VM, network, device, MAC: none for a random one, other_config) -> VIF" },
	{ "VIF.destroy", m_vif_destroy, 1, "Deletes an interface that is not attached (vif)" },
	{ "VIF.plug", m_vif_plug, 1, "Hot-plugs the interface into its running VM (vif)" },
	{ "VIF.unplug", m_vif_unplug, 1, "Hot-unplugs the interface from its running VM (vif)" },
	{ NULL },
};
