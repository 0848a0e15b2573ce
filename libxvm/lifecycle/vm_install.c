/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vm_install.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/xvm_boot.h"
#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/domain.h"
#include "lifecycle/vm_op.h"
#include "lifecycle/allowed_ops.h"
#include "lifecycle/vm_snapshot.h"
#include "lifecycle/vtpm.h"
#include "network/network.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/storage.h"
#include "store/store.h"
#include "templates/builtin.h"
#include "templates/provision.h"

/* A template by reference, UUID or (unique) name. Inside a transaction. */
static int find_template(struct engine *e, const char *name, char **ret)
{
	char *ref = NULL;
	int r = 0;
	if (ref_valid(name)) {
		r = rec_exists(e, &class_vm, name);
		ref = r == 1 ? strdup(name) : NULL;
	} else if (uuid_valid(name)) {
		r = rec_find_one(e, &class_vm, "uuid", name, &ref);
	}
	if (r < 0)
		return r;
	if (!ref) {
		struct json_object *refs;
		if ((r = rec_find(e, &class_vm, "name_label", name, &refs)) < 0)
			return r;
		/* Among same-named VMs only templates count. */
		size_t n = json_object_array_length(refs), found = 0;
		for (size_t i = 0; i < n && r == 0; i++) {
			const char *cand = json_object_get_string(json_object_array_get_idx(refs, i));
			struct json_object *rec;
			static const char *const fields[] = { "is_a_template", NULL };
			if ((r = rec_read_fields(e, &class_vm, cand, fields, &rec)) < 0)
				break;
			if (rec_bool(rec, "is_a_template") && found++ == 0)
				ref = strdup(cand);
			json_object_put(rec);
		}
		json_object_put(refs);
		if (r < 0) {
			free(ref);
			return r;
		}
		if (found > 1) {
			free(ref);
			return ERR1(XVM_ERR_UNKNOWN_TEMPLATE, name,
				    "%zu templates are named '%s': name one by its UUID", found, name);
		}
	}
	if (!ref)
		return ERR1(XVM_ERR_UNKNOWN_TEMPLATE, name, "there is no template '%s'", name);
	*ret = ref;
	return 0;
}

/* Deletes the VM's record and what hangs off it (not its disks' VDIs);
 * *vtpms (the caller's, NULL until then): the states of its vTPMs, to
 * remove once committed. */
static int delete_vm_records(struct engine *e, const char *ref, struct json_object *rec, struct json_object **vtpms)
{
	const struct class_def *const owned[] = { &class_vbd, &class_vif, &class_console };
	int r = vtpm_forget_owned(e, ref, vtpms);
	for (size_t i = 0; r == 0 && i < sizeof(owned) / sizeof(owned[0]); i++) {
		struct json_object *refs;
		if ((r = rec_find(e, owned[i], "VM", ref, &refs)) < 0)
			break;
		for (size_t k = 0; r == 0 && k < json_object_array_length(refs); k++)
			r = rec_delete(e, owned[i], json_object_get_string(json_object_array_get_idx(refs, k)));
		json_object_put(refs);
	}
	struct json_object *m;
	if (r == 0 && json_object_object_get_ex(rec, "metrics", &m) && !ref_is_null(json_object_get_string(m)))
		r = rec_delete(e, &class_vm_metrics, json_object_get_string(m));
	if (r == 0)
		r = rec_delete(e, &class_vm, ref);
	return r;
}

/* An SR by reference or UUID; "" or the null reference: *ret NULL. In a transaction. */
static int find_sr(struct engine *e, const char *name, char **ret)
{
	*ret = NULL;
	if (!name || !*name || ref_is_null(name))
		return 0;
	int r = 0;
	if (ref_valid(name)) {
		if ((r = rec_exists(e, &class_sr, name)) == 1)
			*ret = strdup(name);
	} else if (uuid_valid(name)) {
		r = rec_find_one(e, &class_sr, "uuid", name, ret);
	}
	if (r < 0)
		return r;
	return *ret ? 0 : rec_handle_invalid(&class_sr, name);
}

/* The pool's default SR; *ret NULL if it has none. In a transaction. */
static int default_sr(struct engine *e, char **ret)
{
	struct json_object *pools, *rec = NULL;
	static const char *const fields[] = { "default_SR", NULL };
	int r = rec_all_refs(e, &class_pool, &pools);
	*ret = NULL;
	if (r == 0 && json_object_array_length(pools) > 0 &&
	    (r = rec_read_fields(e, &class_pool, json_object_get_string(json_object_array_get_idx(pools, 0)), fields,
				 &rec)) == 0 && !ref_is_null(rec_str(rec, "default_SR")))
		*ret = strdup(rec_str(rec, "default_SR"));
	json_object_put(rec);
	json_object_put(pools);
	return r;
}

/* other_config without the provision spec: once the disks and VIFs are made,
 * it is used up (as in xapi); an install also uses up the vTPM request. */
static struct json_object *without_spec(struct json_object *oc, bool install)
{
	struct json_object *rest = json_object_new_object();
	json_object_object_foreach(oc, k, v) {
		size_t n = strlen(k);
		bool nic_network = strncmp(k, "nic-", 4) == 0 && n > 12 && strcmp(k + n - 8, "-network") == 0;
		if (strcmp(k, "disks") != 0 && strcmp(k, "nics") != 0 && !nic_network &&
		    !(install && strcmp(k, VTPM_TEMPLATE_KEY) == 0))
			json_object_object_add(rest, k, json_object_get(v));
	}
	return rest;
}

/* What an install or a clone made, to undo on a failure. */
struct made {
	struct engine *e;
	char vm[XVM_REF_BUFLEN];
	bool vm_made;             /* the VM itself, else only drives of an existing VM */
	struct json_object *vdis; /* refs */
	struct json_object *vbds; /* refs */
};

/* Undoes everything made; keeps the first error. */
static int undo(struct made *m, int r)
{
	void *first = error_stash();
	for (size_t i = 0; !m->vm_made && i < json_object_array_length(m->vbds); i++)
		vbd_destroy(m->e, json_object_get_string(json_object_array_get_idx(m->vbds, i)));
	for (size_t i = 0; i < json_object_array_length(m->vdis); i++)
		vdi_destroy(m->e, json_object_get_string(json_object_array_get_idx(m->vdis, i)));
	if (m->vm_made && store_begin_write(m->e->store) == 0) {
		struct json_object *rec, *vtpms = NULL;
		static const char *const fields[] = { "metrics", NULL };
		if (rec_read_fields(m->e, &class_vm, m->vm, fields, &rec) == 0) {
			if (delete_vm_records(m->e, m->vm, rec, &vtpms) == 0 && store_commit(m->e->store) == 0)
				vtpm_remove_states(m->e, vtpms);
			else
				store_rollback(m->e->store);
			json_object_put(vtpms);
			json_object_put(rec);
		} else {
			store_rollback(m->e->store);
		}
	}
	(void)r;
	return error_unstash(first);
}

static int make_vbd(struct made *m, const char *vdi, const char *userdevice, const char *type, const char *mode,
		    bool bootable)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "VM", json_object_new_string(m->vm));
	json_object_object_add(o, "VDI", json_object_new_string(vdi));
	json_object_object_add(o, "userdevice", json_object_new_string(userdevice));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "bootable", json_object_new_boolean(bootable));
	char *ref = NULL;
	int r = vbd_create(m->e, o, &ref);
	json_object_put(o);
	if (r == 0)
		json_object_array_add(m->vbds, json_object_new_string(ref));
	free(ref);
	return r;
}

/* The source's drives onto the new VM: disks cloned copy-on-write, or copied
 * in full with copy (into sr, or each disk's own SR); as xapi's vm-install, a
 * disk outside sr is copied into it, copy-on-write working within an SR only.
 * CD drives come with the same disc. */
static int copy_drives(struct made *m, struct json_object *vbds, bool copy, const char *sr)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < json_object_array_length(vbds); i++) {
		struct json_object *v = json_object_array_get_idx(vbds, i);
		const char *vdi = rec_str(v, "VDI"), *type = rec_str(v, "type"), *own_sr = rec_str(v, "vdi_SR");
		char *made_vdi = NULL;
		if (strcmp(type, "Disk") == 0 && !ref_is_null(vdi)) {
			r = copy || (sr && strcmp(sr, own_sr) != 0) ? vdi_copy(m->e, vdi, sr ? sr : own_sr, &made_vdi)
								     : vdi_clone(m->e, vdi, false, &made_vdi);
			if (r < 0)
				break;
			json_object_array_add(m->vdis, json_object_new_string(made_vdi));
		}
		r = make_vbd(m, made_vdi ? made_vdi : vdi, rec_str(v, "userdevice"), type, rec_str(v, "mode"),
			     rec_bool(v, "bootable"));
		free(made_vdi);
	}
	return r;
}

/* A disk filled from an image that ships with the templates, at least as big as the image. */
static int disk_from_image(struct engine *e, struct json_object *rec, const struct provision_item *it, char **vdi)
{
	char *path;
	if (asprintf(&path, "%s/%s", templates_image_dir(), it->image) < 0)
		return error_oom();
	int r = 0;
	if (access(path, R_OK) < 0)
		r = ERR2(XVM_ERR_INVALID_VALUE, "image", it->image,
			 "the template's disk image %s cannot be read (%s): is xvm installed whole? (XVM_TEMPLATE_IMAGE_DIR)",
			 path, strerror(errno));
	else
		r = vdi_create_from_image(e, rec, path, it->format, vdi);
	free(path);
	return r;
}

/* The disks and CD drive other_config:disks asks for: in the disk's SR, else
 * `sr`, else the pool's default SR (resolved by the caller into sr_default). */
static int provision_drives(struct made *m, const char *spec, const char *new_name, const char *sr)
{
	struct provision_item *items = NULL;
	size_t n = 0;
	int r = provision_parse(spec, &items, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char dev[16];
		snprintf(dev, sizeof(dev), "%d", items[i].device);
		if (items[i].cd) {
			r = make_vbd(m, XVM_NULL_REF, dev, "CD", "RO", false);
			continue;
		}
		char *disk_sr = NULL;
		if (*items[i].sr) {
			if ((r = store_begin_read(m->e->store)) < 0)
				break;
			r = find_sr(m->e, items[i].sr, &disk_sr);
			store_rollback(m->e->store);
			if (r < 0)
				break;
		} else if (!sr) {
			r = ERR1(XVM_ERR_INVALID_VALUE, "sr",
				 "the template asks for disks and there is no SR for them: give an SR (sr-uuid=) or set the pool's default SR");
			break;
		}
		char label[200];
		if (*items[i].name)
			snprintf(label, sizeof(label), "%s", items[i].name);
		else
			snprintf(label, sizeof(label), "%s disk %d", new_name, items[i].device);
		struct json_object *rec = json_object_new_object();
		json_object_object_add(rec, "SR", json_object_new_string(disk_sr ? disk_sr : sr));
		if (items[i].size)
			json_object_object_add(rec, "virtual_size", json_object_new_int64((int64_t)items[i].size));
		json_object_object_add(rec, "name_label", json_object_new_string(label));
		json_object_object_add(rec, "type", json_object_new_string("system"));
		char *vdi = NULL;
		r = *items[i].image ? disk_from_image(m->e, rec, &items[i], &vdi) : vdi_create(m->e, rec, &vdi);
		json_object_put(rec);
		free(disk_sr);
		if (r < 0)
			break;
		json_object_array_add(m->vdis, json_object_new_string(vdi));
		r = make_vbd(m, vdi, dev, "Disk", "RW", items[i].bootable);
		free(vdi);
	}
	free(items);
	return r;
}

/* The source's VBDs, each with its VDI's SR as vdi_SR. In a transaction. */
static int read_drives(struct engine *e, const char *vm, struct json_object **ret)
{
	static const char *const fields[] = { "VDI", "userdevice", "type", "mode", "bootable", NULL };
	static const char *const vdi_fields[] = { "SR", NULL };
	struct json_object *refs, *out = json_object_new_array();
	int r = rec_find(e, &class_vbd, "VM", vm, &refs);
	for (size_t i = 0; r == 0 && i < json_object_array_length(refs); i++) {
		struct json_object *rec, *d;
		if ((r = rec_read_fields(e, &class_vbd, json_object_get_string(json_object_array_get_idx(refs, i)), fields,
					 &rec)) < 0)
			break;
		json_object_array_add(out, rec);
		if (!ref_is_null(rec_str(rec, "VDI")) && (r = rec_read_fields(e, &class_vdi, rec_str(rec, "VDI"), vdi_fields, &d)) == 0) {
			json_object_object_add(rec, "vdi_SR", json_object_new_string(rec_str(d, "SR")));
			json_object_put(d);
		}
	}
	json_object_put(refs);
	if (r < 0) {
		json_object_put(out);
		return r;
	}
	*ret = out;
	return 0;
}

/* The source's vTPMs onto the new VM, their states copied; or a new one
 * when the template asks for it and has none of its own. */
static int copy_vtpms(struct engine *e, const char *src, const char *dst, bool want_new)
{
	struct json_object *copies = NULL;
	int r = vtpm_copy_states(e, src, false, &copies);
	if (r < 0)
		return r;
	if (json_object_array_length(copies) == 0) {
		json_object_put(copies);
		if (!want_new)
			return 0;
		char *ref = NULL;
		r = vtpm_create(e, dst, false, &ref);
		free(ref);
		return r;
	}
	if ((r = store_begin_write(e->store)) == 0) {
		if ((r = vtpm_record_copies(e, copies, dst)) == 0)
			r = store_commit(e->store);
		else
			store_rollback(e->store);
	}
	if (r < 0)
		vtpm_remove_states(e, copies);
	json_object_put(copies);
	return r;
}

struct make_args {
	const char *source;   /* template name (install) or VM reference */
	const char *new_name;
	const char *sr;       /* SR reference or UUID; NULL or "" for none */
	bool install;         /* from a template, no longer one, its disks provisioned */
	bool copy;            /* full copies of the disks, else copy-on-write clones */
};

/* The source's record, checked, and the SR to use. In a write transaction. */
static int read_source(struct engine *e, const struct make_args *a, char **src, struct json_object **rec,
		       char **sr, char **prov_sr)
{
	static const char *const fields[] = { "name_label", "is_a_template", "power_state", "other_config", NULL };
	int r = a->install ? find_template(e, a->source, src) : (rec_exists(e, &class_vm, a->source) == 1
									 ? ((*src = strdup(a->source)) ? 0 : error_oom())
									 : rec_handle_invalid(&class_vm, a->source));
	if (r < 0)
		return r;
	if ((r = rec_read_fields(e, &class_vm, *src, fields, rec)) < 0)
		return r;
	if (a->install && !rec_bool(*rec, "is_a_template"))
		return ERR1(XVM_ERR_UNKNOWN_TEMPLATE, a->source, "'%s' is a VM, not a template", a->source);
	if (strcmp(rec_str(*rec, "power_state"), "Halted") != 0)
		return vm_bad_power_state(*src, rec_str(*rec, "name_label"), "Halted", rec_str(*rec, "power_state"),
					  a->copy ? "copy" : "clone");
	if ((r = find_sr(e, a->sr, sr)) < 0)
		return r;
	if (*sr)
		*prov_sr = strdup(*sr);
	else if ((r = default_sr(e, prov_sr)) < 0)
		return r;
	return 0;
}

static int make_vm(struct engine *e, const struct make_args *a, char **ret_ref)
{
	if (!a->new_name || !*a->new_name)
		return ERR2(XVM_ERR_INVALID_VALUE, "new_name_label", "", "a new VM needs a name");
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	struct made m = { .e = e, .vdis = json_object_new_array(), .vbds = json_object_new_array() };
	char *src = NULL, *sr = NULL, *prov_sr = NULL, *spec = NULL;
	struct json_object *t = NULL, *vm = NULL, *metrics = NULL, *drives = NULL, *oc = NULL;
	if ((r = read_source(e, a, &src, &t, &sr, &prov_sr)) < 0 || (r = read_drives(e, src, &drives)) < 0)
		goto fail;
	char mref[XVM_REF_BUFLEN], now[XVM_DATETIME_BUFLEN];
	ref_generate(m.vm);
	ref_generate(mref);
	datetime_format(time(NULL), now);
	metrics = json_object_new_object();
	json_object_object_add(metrics, "install_time", json_object_new_string(now));
	vm = json_object_new_object();
	json_object_object_add(vm, "name_label", json_object_new_string(a->new_name));
	json_object_object_add(vm, "is_a_template", json_object_new_boolean(!a->install && rec_bool(t, "is_a_template")));
	json_object_object_add(vm, "metrics", json_object_new_string(mref));
	/* As xapi's provision: the spec is used up, the new VM keeps its disks only. */
	struct json_object *disks, *want;
	bool new_vtpm = false;
	if (a->install && json_object_object_get_ex(t, "other_config", &oc)) {
		if (json_object_object_get_ex(oc, "disks", &disks))
			spec = strdup(json_object_get_string(disks));
		new_vtpm = json_object_object_get_ex(oc, VTPM_TEMPLATE_KEY, &want) &&
			   strcmp(json_object_get_string(want), "true") == 0;
		json_object_object_add(vm, "other_config", without_spec(oc, true));
	}
	/* The new VM's VIFs are its own: new MACs; an install adds those the template asks for. */
	if ((r = rec_insert(e, &class_vm_metrics, mref, metrics)) < 0 || (r = rec_copy(e, &class_vm, src, m.vm, vm)) < 0 ||
	    (r = vm_vifs_copy(e, src, m.vm)) < 0 || (a->install && (r = vm_vifs_from_spec(e, m.vm, oc)) < 0))
		goto fail;
	if ((r = store_commit(e->store)) < 0)
		goto out;
	m.vm_made = true;
	if ((r = copy_drives(&m, drives, a->copy, sr)) < 0 ||
	    (spec && (r = provision_drives(&m, spec, a->new_name, prov_sr)) < 0) ||
	    (r = copy_vtpms(e, src, m.vm, new_vtpm)) < 0) {
		r = undo(&m, r);
		goto out;
	}
	*ret_ref = strdup(m.vm);
	r = *ret_ref ? 0 : undo(&m, error_oom());
	goto out;
fail:
	store_rollback(e->store);
out:
	free(src);
	free(sr);
	free(prov_sr);
	free(spec);
	json_object_put(t);
	json_object_put(vm);
	json_object_put(metrics);
	json_object_put(drives);
	json_object_put(m.vdis);
	json_object_put(m.vbds);
	return r;
}

/* What other_config asks of VM.provision: a vTPM (vtpm: true) when the VM has none. */
static bool wants_vtpm(struct json_object *oc)
{
	struct json_object *want;
	return oc && json_object_object_get_ex(oc, VTPM_TEMPLATE_KEY, &want) &&
	       strcmp(json_object_get_string(want), "true") == 0;
}

int vm_provision(struct engine *e, const char *vm)
{
	static const char *const fields[] = { "name_label", "power_state", "other_config", "is_default_template", NULL };
	struct json_object *rec = NULL, *oc = NULL, *disks;
	char *sr = NULL, *spec = NULL, *vtpm = NULL;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = rec_exists(e, &class_vm, vm)) != 1)
		r = r < 0 ? r : rec_handle_invalid(&class_vm, vm);
	else if ((r = rec_read_fields(e, &class_vm, vm, fields, &rec)) == 0 && (r = default_sr(e, &sr)) == 0 &&
		 json_object_object_get_ex(rec, "other_config", &oc) && json_object_object_get_ex(oc, "disks", &disks))
		spec = strdup(json_object_get_string(disks));
	store_rollback(e->store);
	if (r == 0 && rec_bool(rec, "is_default_template"))
		r = ERR1(XVM_ERR_VM_IS_TEMPLATE, vm, "%s is a built-in template: its drives cannot change", rec_str(rec, "name_label"));
	else if (r == 0 && strcmp(rec_str(rec, "power_state"), "Halted") != 0)
		r = vm_bad_power_state(vm, rec_str(rec, "name_label"), "Halted", rec_str(rec, "power_state"), "provision");
	/* A VM cloned from a template (XenAPI's VM.clone, then VM.provision) gets here what an install gives. */
	bool asked = spec || (oc && json_object_object_get_ex(oc, "nics", NULL)) || wants_vtpm(oc);
	size_t have_vtpm = 0;
	if (r == 0 && wants_vtpm(oc) && (r = vtpm_count(e, vm, &have_vtpm)) == 0 && have_vtpm == 0)
		r = vtpm_create(e, vm, false, &vtpm);
	struct made m = { .e = e, .vdis = json_object_new_array(), .vbds = json_object_new_array() };
	snprintf(m.vm, sizeof(m.vm), "%s", vm);
	if (r == 0 && asked && (!spec || (r = provision_drives(&m, spec, rec_str(rec, "name_label"), sr)) == 0) &&
	    (r = store_begin_write(e->store)) == 0) {
		struct json_object *ch = json_object_new_object();
		json_object_object_add(ch, "other_config", without_spec(oc, true));
		if ((r = vm_vifs_from_spec(e, vm, oc)) == 0 && (r = rec_update(e, &class_vm, vm, ch)) == 0)
			r = store_commit(e->store);
		else
			store_rollback(e->store);
		json_object_put(ch);
	}
	if (r < 0 && asked) {
		r = undo(&m, r);
		if (vtpm) {
			void *first = error_stash();
			vtpm_destroy(e, vtpm);
			r = error_unstash(first);
		}
	}
	json_object_put(m.vdis);
	json_object_put(m.vbds);
	json_object_put(rec);
	free(sr);
	free(spec);
	free(vtpm);
	return r;
}

int vm_install(struct engine *e, const char *template_name, const char *new_name, const char *sr, bool copy,
	       char **ret_ref)
{
	struct make_args a = { template_name, new_name, sr, .install = true, .copy = copy };
	return make_vm(e, &a, ret_ref);
}

int vm_clone(struct engine *e, const char *vm, const char *new_name, char **ret_ref)
{
	struct make_args a = { vm, new_name, NULL, .install = false, .copy = false };
	return make_vm(e, &a, ret_ref);
}

int vm_copy(struct engine *e, const char *vm, const char *new_name, const char *sr, char **ret_ref)
{
	struct make_args a = { vm, new_name, sr, .install = false, .copy = true };
	return make_vm(e, &a, ret_ref);
}

/* Deletes the VM's records; with_disks, also the disks it owns, whose
 * volumes go once the records are committed. */
static int finish_deleting(struct vm_op *op, bool with_disks)
{
	struct json_object *volumes = NULL, *vtpms = NULL;
	int r = store_begin_write(op->e->store);
	if (r == 0) {
		if (with_disks)
			r = vm_disks_forget_owned(op->e, op->ref, &volumes);
		if (r == 0)
			r = delete_vm_records(op->e, op->ref, op->rec, &vtpms);
		if (r == 0)
			r = store_commit(op->e->store);
		else
			store_rollback(op->e->store);
	}
	if (r == 0 && volumes)
		vm_disks_delete_volumes(op->e, volumes);
	/* A vTPM is the VM's alone: it goes with the record, disks kept or not. */
	if (r == 0)
		vtpm_remove_states(op->e, vtpms);
	json_object_put(vtpms);
	if (r == 0)
		xvm_boot_forget(op->e, rec_str(op->rec, "uuid"));
	json_object_put(volumes);
	vm_op_finish(op);
	return r;
}

static int refuse_builtin(struct vm_op *op)
{
	if (!rec_bool(op->rec, "is_default_template"))
		return 0;
	return vm_op_abort(op, ERR1(XVM_ERR_VM_IS_TEMPLATE, op->ref, "%s is a built-in template: it cannot be deleted",
				    json_object_get_string(json_object_object_get(op->rec, "name_label"))));
}

int vm_destroy(struct engine *e, const char *ref)
{
	/* A snapshot goes with its memory and the disks it alone uses. */
	int r = vm_is_snapshot(e, ref);
	if (r != 0)
		return r < 0 ? r : vm_uninstall(e, ref);
	struct vm_op op;
	r = vm_op_begin(e, ref, "destroy", VM_OP_ALLOW_TEMPLATE, &op);
	if (r < 0)
		return r;
	if ((r = refuse_builtin(&op)) < 0)
		return r;
	return finish_deleting(&op, false);
}

int vm_uninstall(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "destroy", VM_OP_ALLOW_TEMPLATE | VM_OP_ANY_STATE, &op);
	if (r < 0)
		return r;
	if ((r = refuse_builtin(&op)) < 0)
		return r;
	if (op.power == VM_RUNNING || op.power == VM_PAUSED) {
		if ((r = domain_destroy(e, ref, (uint32_t)op.domid)) < 0)
			return vm_op_abort(&op, r);
	} else if (op.power == VM_SUSPENDED) {
		char *path = domain_suspend_image_path(e, op.rec);
		if (path)
			unlink(path);
		free(path);
	}
	return finish_deleting(&op, true);
}
