/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/reconcile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "lifecycle/allowed_ops.h"
#include "lifecycle/domain.h"
#include "lifecycle/inflight.h"
#include "lifecycle/oplock.h"
#include "lifecycle/vm_op.h"
#include "lifecycle/vm_outcome.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

enum after { AFTER_HALT, AFTER_RESTART, AFTER_PRESERVE };

/* What the VM's actions_after_* say for a domain that stopped for `reason`. */
static enum after action_for(struct json_object *rec, enum xvm_hc_shutdown_reason reason)
{
	const char *a;
	switch (reason) {
	case XVM_HC_SHUTDOWN_POWEROFF:
		return strcmp(rec_str(rec, "actions_after_shutdown"), "restart") == 0 ? AFTER_RESTART : AFTER_HALT;
	case XVM_HC_SHUTDOWN_REBOOT:
		return strcmp(rec_str(rec, "actions_after_reboot"), "restart") == 0 ? AFTER_RESTART : AFTER_HALT;
	case XVM_HC_SHUTDOWN_CRASH:
		a = rec_str(rec, "actions_after_crash");
		if (strcmp(a, "preserve") == 0)
			return AFTER_PRESERVE;
		return strstr(a, "restart") ? AFTER_RESTART : AFTER_HALT;
	default:
		return AFTER_HALT;
	}
}

static int apply_action(struct engine *e, const char *ref, struct json_object *rec, enum after act,
			const char *why)
{
	struct json_object *vm = json_object_new_object(), *metrics = json_object_new_object();
	const char *name = rec_str(rec, "name_label");
	if (act == AFTER_RESTART) {
		struct xvm_hc_domain_info info;
		if (domain_boot(e, ref, rec, false, &info) == 0) {
			log_info("VM %s: %s; restarted as domain %u", name, why, info.domid);
			domain_running_changes(e, &info, false, vm, metrics);
		} else {
			log_error("VM %s: %s; restarting failed: %s", name, why, xvm_last_error()->message);
			domain_halted_changes(vm);
		}
	} else if (act == AFTER_PRESERVE) {
		log_info("VM %s: %s; domain preserved for inspection", name, why);
		json_object_object_add(vm, "power_state", json_object_new_string("Paused"));
	} else {
		log_info("VM %s: %s; halted", name, why);
		domain_halted_changes(vm);
	}
	int r = vm_record_outcome(e, ref, rec, vm, metrics);
	json_object_put(vm);
	json_object_put(metrics);
	return r;
}

/* A VM recorded as stopped has no domain, unless an operation died between
 * creating one and recording it: that domain is destroyed, and the VM stays
 * as recorded for the user to try again. */
static int destroy_orphan(struct engine *e, const char *ref, struct json_object *rec)
{
	struct xvm_hc_domain_info info = { .head = XVM_HC_HEAD(XVM_HC_F_INFO_BY_UUID) };
	snprintf(info.uuid, sizeof(info.uuid), "%s", rec_str(rec, "uuid"));
	int r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, &info);
	if (r == -ESRCH)
		return 0;
	if (r < 0)
		return engine_hv_error(e, r, "domain info", ref);
	log_warning("VM %s: destroying domain %u left by an interrupted operation", rec_str(rec, "name_label"),
		    info.domid);
	return domain_destroy(e, ref, info.domid);
}

/* The domain of a running VM is gone. Either an operation that stops it
 * (its record says which) died before recording the outcome, and that
 * outcome is made true now; or the guest died under us: a crash. */
static int domain_vanished(struct engine *e, const char *ref, struct json_object *rec, const char *interrupted)
{
	if (strcmp(interrupted, "hard_shutdown") == 0 || strcmp(interrupted, "clean_shutdown") == 0 ||
	    strcmp(interrupted, "destroy") == 0)
		return apply_action(e, ref, rec, AFTER_HALT, "its shutdown was interrupted");
	if (strcmp(interrupted, "hard_reboot") == 0 || strcmp(interrupted, "clean_reboot") == 0)
		return apply_action(e, ref, rec, AFTER_RESTART, "its reboot was interrupted");
	char *image = strcmp(interrupted, "suspend") == 0 ? domain_suspend_image_path(e, rec) : NULL;
	bool saved = image && access(image, F_OK) == 0;
	free(image);
	if (saved) {
		struct json_object *vm = json_object_new_object(), *metrics = json_object_new_object();
		domain_halted_changes(vm);
		json_object_object_add(vm, "power_state", json_object_new_string("Suspended"));
		log_info("VM %s: its suspend was interrupted after the image was written; suspended",
			 rec_str(rec, "name_label"));
		int r = vm_record_outcome(e, ref, rec, vm, metrics);
		json_object_put(vm);
		json_object_put(metrics);
		return r;
	}
	return apply_action(e, ref, rec, action_for(rec, XVM_HC_SHUTDOWN_CRASH), "its domain vanished");
}

int reconcile_vm(struct engine *e, const char *ref, struct json_object *rec)
{
	/* Taken whatever happens next: a dead operation's record speaks only
	 * to the first one to look. */
	char interrupted[32];
	int r = inflight_take_stale(e, ref, interrupted, sizeof(interrupted));
	if (r < 0)
		return r;
	enum vm_power power = vm_power_parse(rec_str(rec, "power_state"));
	if (power != VM_RUNNING && power != VM_PAUSED)
		return destroy_orphan(e, ref, rec);
	struct json_object *d;
	int64_t domid = json_object_object_get_ex(rec, "domid", &d) ? json_object_get_int64(d) : -1;
	struct xvm_hc_domain_info info = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)domid };
	r = domid < 0 ? -ESRCH : xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, &info);
	if (r == -ESRCH || (r == 0 && strcmp(info.uuid, rec_str(rec, "uuid")) != 0))
		return domain_vanished(e, ref, rec, interrupted);
	if (r < 0)
		return engine_hv_error(e, r, "domain info", ref);
	if (info.state == XVM_HC_STATE_SHUTDOWN) {
		/* A preserved crash stays until the user shuts the VM down. */
		if (power == VM_PAUSED && info.shutdown_reason == XVM_HC_SHUTDOWN_CRASH &&
		    action_for(rec, XVM_HC_SHUTDOWN_CRASH) == AFTER_PRESERVE)
			return 0;
		static const char *const why[] = { "the guest powered off", "the guest rebooted",
						   "the guest suspended itself", "the guest crashed" };
		enum after act = action_for(rec, info.shutdown_reason);
		if (act != AFTER_PRESERVE && (r = domain_destroy(e, ref, info.domid)) < 0)
			return r;
		return apply_action(e, ref, rec, act, why[info.shutdown_reason]);
	}
	enum vm_power actual = info.state == XVM_HC_STATE_PAUSED ? VM_PAUSED : VM_RUNNING;
	if (actual == power)
		return 0;
	struct json_object *vm = json_object_new_object(), *metrics = json_object_new_object();
	json_object_object_add(vm, "power_state", json_object_new_string(vm_power_name(actual)));
	r = vm_record_outcome(e, ref, rec, vm, metrics);
	json_object_put(vm);
	json_object_put(metrics);
	return r;
}

/* Reconciles one VM unless an operation holds it; then it is tried again
 * at the next sync (an operation that does not stop the guest, say a
 * test's guest action, leaves what the guest did to be reconciled).
 * 1 when it looked at the VM. */
static int sync_vm(struct engine *e, const char *ref)
{
	struct oplock lock;
	if (oplock_try(e, "VM", ref, &lock) < 0) {
		error_clear();
		if (!e->sync_retry)
			e->sync_retry = json_object_new_object();
		json_object_object_add(e->sync_retry, ref, NULL);
		return 0;
	}
	struct json_object *rec = NULL;
	int r = store_begin_read(e->store);
	if (r == 0) {
		r = rec_read_fields(e, &class_vm, ref, vm_lifecycle_fields, &rec);
		store_rollback(e->store);
	}
	if (r == 0)
		r = reconcile_vm(e, ref, rec);
	json_object_put(rec);
	oplock_release(&lock);
	if (r == -XVM_ERR_HANDLE_INVALID) {
		/* Deleted since it was found (or since it was busy): nothing to do. */
		error_clear();
		return 0;
	}
	return r < 0 ? r : 1;
}

/* The domain carries its VM's UUID: no index of domain ids is needed.
 * 1 when a VM was looked at, 0 when the domain was gone already. */
static int sync_domain(struct engine *e, uint32_t domid)
{
	struct xvm_hc_domain_info info = { .head = XVM_HC_HEAD(0), .domid = domid };
	int r = xvm_hypercall(e->hv, XVM_HC_DOMAIN_GET_INFO, &info);
	if (r == -ESRCH)
		return 0; /* gone already: whoever destroyed it dealt with its VM */
	if (r < 0)
		return engine_hv_error(e, r, "domain info", NULL);
	char *ref = NULL;
	if ((r = store_begin_read(e->store)) < 0)
		return r;
	r = rec_find_one(e, &class_vm, "uuid", info.uuid, &ref);
	store_rollback(e->store);
	if (r == 0 && ref)
		r = sync_vm(e, ref);
	free(ref);
	return r;
}

/* After the hypervisor started afresh every domain it had is gone. */
static int sync_all_running(struct engine *e)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	sqlite3_stmt *st = store_stmt(e->store,
				      "SELECT ref FROM VM WHERE power_state IN ('Running', 'Paused')");
	struct json_object *refs = json_object_new_array();
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_object_array_add(refs, json_object_new_string((const char *)sqlite3_column_text(st, 0)));
	if (st)
		sqlite3_reset(st);
	store_rollback(e->store);
	r = st ? 0 : -XVM_ERR_STORE_ERROR;
	for (size_t i = 0; r >= 0 && i < json_object_array_length(refs); i++)
		r = sync_vm(e, json_object_get_string(json_object_array_get_idx(refs, i)));
	json_object_put(refs);
	return r < 0 ? r : 0;
}

static int load_seq(struct engine *e)
{
	char *text = NULL;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = store_meta_get(e->store, "hv_event_seq", &text);
	store_rollback(e->store);
	int64_t v;
	e->event_seq = r == 0 && text && parse_int64(text, &v) == 0 && v > 0 ? (uint64_t)v : 0;
	free(text);
	return r;
}

static int save_seq(struct engine *e, uint64_t seq)
{
	char text[24];
	snprintf(text, sizeof(text), "%" PRIu64, seq);
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	r = store_meta_set(e->store, "hv_event_seq", text);
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

bool engine_sync_pending(struct engine *e)
{
	pthread_mutex_lock(&e->sync_lock);
	bool pending = e->sync_retry != NULL;
	pthread_mutex_unlock(&e->sync_lock);
	return pending;
}

int engine_sync_domains(struct engine *e)
{
	pthread_mutex_lock(&e->sync_lock);
	int r = 0;
	if (!e->synced_once && (r = load_seq(e)) < 0)
		goto out;
	e->synced_once = true;
	/* The VMs an operation held at the last sync, first. */
	struct json_object *retry = e->sync_retry;
	e->sync_retry = NULL;
	if (retry) {
		json_object_object_foreach(retry, held, unused) {
			(void)unused;
			if (r >= 0)
				r = sync_vm(e, held);
		}
		json_object_put(retry);
	}
	if (r < 0)
		goto out;
	uint32_t capacity = 64, *domids = NULL;
	struct xvm_hc_event_poll poll;
	for (;;) {
		uint32_t *grown = realloc(domids, capacity * sizeof(*domids));
		if (!grown) {
			r = error_oom();
			goto out_free;
		}
		domids = grown;
		poll = (struct xvm_hc_event_poll){ .head = XVM_HC_HEAD(0), .since_seq = e->event_seq,
						   .capacity = capacity, .domids = domids };
		r = xvm_hypercall(e->hv, XVM_HC_EVENT_POLL, &poll);
		if (r != -ENOBUFS)
			break;
		capacity = poll.count + 64;
	}
	if (r < 0) {
		r = engine_hv_error(e, r, "event poll", NULL);
		goto out_free;
	}
	bool handled = false;
	for (uint32_t i = 0; i < poll.count && r >= 0; i++) {
		r = sync_domain(e, domids[i]);
		handled |= r > 0;
	}
	r = r < 0 ? r : 0;
	/* A hypervisor whose sequence went back was started afresh (its numbers
	 * count from zero again) and runs none of the old domains. */
	bool restarted = poll.seq < e->event_seq;
	if (r == 0 && restarted)
		r = sync_all_running(e);
	/* The seq is saved only when something was handled: a later process
	 * re-checking a few domains costs less than a write per call. */
	if (r == 0 && (handled || restarted || e->event_seq == 0) && poll.seq != e->event_seq)
		r = save_seq(e, poll.seq);
	if (r == 0)
		e->event_seq = poll.seq;
out_free:
	free(domids);
out:
	pthread_mutex_unlock(&e->sync_lock);
	return r;
}
