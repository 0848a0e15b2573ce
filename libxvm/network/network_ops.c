/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network operations: creating and destroying networks, and the default one. */
#include "network/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

int network_check_mtu(int64_t mtu, const char *text)
{
	if (mtu >= NETWORK_MTU_MIN && mtu <= NETWORK_MTU_MAX)
		return 0;
	return ERR2(XVM_ERR_INVALID_VALUE, "MTU", text, "a network's MTU is %d..%d, not '%s'", NETWORK_MTU_MIN,
		    NETWORK_MTU_MAX, text);
}

/* MTU as a number or a decimal string (the CLI's); 1500 when absent. */
static int record_mtu(struct json_object *rec, int64_t *mtu)
{
	struct json_object *v;
	*mtu = 1500;
	if (!json_object_object_get_ex(rec, "MTU", &v))
		return 0;
	const char *text = json_object_get_string(v);
	if (json_object_is_type(v, json_type_int))
		*mtu = json_object_get_int64(v);
	else if (parse_int64(text, mtu) < 0)
		*mtu = 0;
	return network_check_mtu(*mtu, text);
}

/* What Linux takes as an interface name (IFNAMSIZ), and QEMU without quoting. */
static int check_bridge(struct engine *e, const char *bridge)
{
	size_t n = strlen(bridge);
	if (n == 0 || n >= XVM_HC_BRIDGE_MAX || strcmp(bridge, ".") == 0 || strcmp(bridge, "..") == 0 ||
	    strspn(bridge, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
		return ERR2(XVM_ERR_INVALID_VALUE, "bridge", bridge,
			    "'%s' is no bridge name: 1..%d letters, digits, '-', '_' or '.'", bridge,
			    XVM_HC_BRIDGE_MAX - 1);
	char *other = NULL;
	int r = rec_find_one(e, &class_network, "bridge", bridge, &other);
	if (r == 0 && other)
		r = ERR2(XVM_ERR_INVALID_VALUE, "bridge", bridge, "network %s is on bridge %s already", other, bridge);
	free(other);
	return r;
}

int network_create(struct engine *e, struct json_object *in, char **ret_ref)
{
	if (!json_object_is_type(in, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "record", "network.create takes a record");
	int64_t mtu;
	int r = record_mtu(in, &mtu);
	if (r < 0)
		return r;
	const char *bridge = rec_str_or(in, "bridge", "");
	char uuid[XVM_UUID_BUFLEN], own[XVM_HC_BRIDGE_MAX], ref[XVM_REF_BUFLEN];
	uuid_generate_str(uuid);
	/* A name of the network's own: 10 hex digits of its UUID never clash between state dirs in practice. */
	snprintf(own, sizeof(own), "xvmbr%.8s%.2s", uuid, uuid + 9);
	if ((r = store_begin_write(e->store)) < 0)
		return r;
	if (!*bridge || (r = check_bridge(e, bridge)) == 0) {
		struct json_object *o = json_object_new_object(), *v;
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
		json_object_object_add(o, "name_label", json_object_new_string(rec_str_or(in, "name_label", "")));
		json_object_object_add(o, "name_description", json_object_new_string(rec_str_or(in, "name_description", "")));
		json_object_object_add(o, "MTU", json_object_new_int64(mtu));
		json_object_object_add(o, "bridge", json_object_new_string(*bridge ? bridge : own));
		json_object_object_add(o, "managed", json_object_new_boolean(!*bridge));
		static const char *const maps[] = { "other_config", "tags", NULL };
		for (const char *const *k = maps; *k; k++)
			if (json_object_object_get_ex(in, *k, &v))
				json_object_object_add(o, *k, json_object_get(v));
		ref_generate(ref);
		r = rec_insert(e, &class_network, ref, o);
		json_object_put(o);
	}
	if (r < 0 || (r = store_commit(e->store)) < 0) {
		store_rollback(e->store);
		return r;
	}
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

int network_destroy(struct engine *e, const char *network)
{
	static const char *const fields[] = { "bridge", "managed", NULL };
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	struct json_object *vifs = NULL, *rec = NULL;
	if ((r = rec_exists(e, &class_network, network)) != 1)
		r = r < 0 ? r : rec_handle_invalid(&class_network, network);
	else if ((r = rec_read_fields(e, &class_network, network, fields, &rec)) == 0 &&
		 (r = rec_find(e, &class_vif, "network", network, &vifs)) == 0 && json_object_array_length(vifs)) {
		size_t n = json_object_array_length(vifs);
		const char **params = calloc(n, sizeof(*params));
		if (!params) {
			r = error_oom();
		} else {
			for (size_t i = 0; i < n; i++)
				params[i] = json_object_get_string(json_object_array_get_idx(vifs, i));
			r = error_set(XVM_ERR_NETWORK_CONTAINS_VIF, params, n,
				      "network %s has %zu VIF(s): destroy them first (vif-list network-uuid=)", network, n);
			free(params);
		}
	}
	if (r == 0)
		r = rec_delete(e, &class_network, network);
	json_object_put(vifs);
	if (r < 0 || (r = store_commit(e->store)) < 0) {
		store_rollback(e->store);
		json_object_put(rec);
		return r;
	}
	/* A managed bridge went with its last VIF; one an interrupted start left behind goes now. */
	struct xvm_hc_bridge b = { .head = XVM_HC_HEAD(0) };
	snprintf(b.bridge, sizeof(b.bridge), "%s", rec_str(rec, "bridge"));
	if (rec_bool(rec, "managed") && *b.bridge && xvm_hypercall(e->hv, XVM_HC_BRIDGE_RELEASE, &b) < 0)
		log_warning("network %s: bridge %s stays: %s", network, b.bridge, xvm_hv_last_error(e->hv));
	json_object_put(rec);
	return 0;
}

int network_create_nat(struct engine *e)
{
	char ref[XVM_REF_BUFLEN];
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name_label", json_object_new_string(NETWORK_NAT_NAME));
	json_object_object_add(o, "name_description",
			       json_object_new_string("NAT to the host's networks and DHCP, inside each VM's QEMU "
						      "(user-mode): no bridge, no host change"));
	json_object_object_add(o, "bridge", json_object_new_string(""));
	json_object_object_add(o, "managed", json_object_new_boolean(1));
	ref_generate(ref);
	int r = rec_insert(e, &class_network, ref, o);
	json_object_put(o);
	return r;
}

int network_default(struct engine *e, char **ret)
{
	return rec_find_one(e, &class_network, "bridge", "", ret);
}
