/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vm_outcome.h"

#include <errno.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "hypercall.h"
#include "network/network.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/storage.h"
#include "store/store.h"

static int write_metrics(struct engine *e, const char *ref, struct json_object *rec, struct json_object *metrics)
{
	const char *mref = rec_str(rec, "metrics");
	if (!ref_is_null(mref) && rec_exists(e, &class_vm_metrics, mref) == 1)
		return rec_update(e, &class_vm_metrics, mref, metrics);
	/* VMs made outside vm-install (templates' clones) get metrics on their first run. */
	char new_ref[XVM_REF_BUFLEN];
	ref_generate(new_ref);
	int r = rec_insert(e, &class_vm_metrics, new_ref, metrics);
	if (r < 0)
		return r;
	struct json_object *link = json_object_new_object();
	json_object_object_add(link, "metrics", json_object_new_string(new_ref));
	r = rec_update(e, &class_vm, ref, link);
	json_object_put(link);
	return r;
}

static int add_console(struct engine *e, const char *vm, const char *protocol, const char *location,
		       const char *log_path)
{
	char ref[XVM_REF_BUFLEN];
	ref_generate(ref);
	struct json_object *c = json_object_new_object(), *oc = json_object_new_object();
	json_object_object_add(c, "protocol", json_object_new_string(protocol));
	/* A VNC console may come with a websocket port: "host:port,ws=PORT". */
	const char *ws = strstr(location, ",ws=");
	json_object_object_add(c, "location", json_object_new_string_len(location, ws ? (int)(ws - location) : (int)strlen(location)));
	if (ws)
		json_object_object_add(oc, "websocket_port", json_object_new_string(ws + 4));
	json_object_object_add(c, "VM", json_object_new_string(vm));
	if (log_path && *log_path)
		json_object_object_add(oc, "log", json_object_new_string(log_path));
	json_object_object_add(c, "other_config", oc);
	int r = rec_insert(e, &class_console, ref, c);
	json_object_put(c);
	return r;
}

/* The consoles of the domain the VM now runs as; none for a stopped VM. */
static int refresh_consoles(struct engine *e, const char *vm, int64_t domid)
{
	/* A backend that has no consoles (sim) never made any records either. */
	if (e->backend_has_no_consoles)
		return 0;
	struct json_object *old;
	int r = rec_find(e, &class_console, "VM", vm, &old);
	for (size_t i = 0; r == 0 && i < json_object_array_length(old); i++)
		r = rec_delete(e, &class_console, json_object_get_string(json_object_array_get_idx(old, i)));
	json_object_put(old);
	static const struct {
		enum xvm_hc_console_kind kind;
		const char *protocol;
	} kinds[] = { { XVM_HC_CONSOLE_SERIAL, "vt100" }, { XVM_HC_CONSOLE_VNC, "rfb" } };
	unsigned unsupported = 0;
	for (size_t i = 0; r == 0 && domid >= 0 && i < 2; i++) {
		struct xvm_hc_console con = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)domid, .kind = kinds[i].kind };
		int hr = xvm_hypercall(e->hv, XVM_HC_CONSOLE_OPEN, &con);
		if (hr == 0)
			r = add_console(e, vm, kinds[i].protocol, con.location, con.log_path);
		else if (hr == -EOPNOTSUPP)
			unsupported++;
		else
			/* The VM runs without that console rather than not at all. */
			log_warning("domain %lld: no %s console: %s", (long long)domid, kinds[i].protocol,
				    xvm_hv_last_error(e->hv));
	}
	if (unsupported == 2)
		e->backend_has_no_consoles = true;
	return r;
}

/* A VM's drives and VIFs are attached while it runs: all of them from a fresh boot
 * (a start, a restart), none once halted; a resume keeps those it had. */
static int follow_drives(struct engine *e, const char *ref, struct json_object *rec, struct json_object *vm)
{
	struct json_object *power, *domid;
	if (!json_object_object_get_ex(vm, "power_state", &power))
		return 0;
	const char *now = json_object_get_string(power), *before = rec_str(rec, "power_state");
	int r;
	if (strcmp(now, "Halted") == 0)
		return (r = vm_vbds_set_attached(e, ref, false)) < 0 ? r : vm_vifs_set_attached(e, ref, false);
	if (json_object_object_get_ex(vm, "domid", &domid) && json_object_get_int64(domid) >= 0 &&
	    strcmp(before, "Suspended") != 0)
		return (r = vm_vbds_set_attached(e, ref, true)) < 0 ? r : vm_vifs_set_attached(e, ref, true);
	return 0;
}

int vm_record_outcome(struct engine *e, const char *ref, struct json_object *rec, struct json_object *vm,
		      struct json_object *metrics)
{
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	struct json_object *domid;
	if (vm && (r = rec_update(e, &class_vm, ref, vm)) == 0 && json_object_object_get_ex(vm, "domid", &domid))
		r = refresh_consoles(e, ref, json_object_get_int64(domid));
	if (r == 0 && vm)
		r = follow_drives(e, ref, rec, vm);
	if (r == 0 && metrics && json_object_object_length(metrics))
		r = write_metrics(e, ref, rec, metrics);
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	if ((r = store_commit(e->store)) == 0 && vm) {
		json_object_object_foreach(vm, k, v)
			json_object_object_add(rec, k, json_object_get(v));
	}
	return r;
}
