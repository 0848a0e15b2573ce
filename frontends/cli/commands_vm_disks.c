/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's disks and CD drives, as xe's vm-disk-* and vm-cd-* commands see
 * them: a disk is a Disk VBD and its VDI, a CD drive a CD VBD holding an
 * ISO's VDI or nothing. A change to a running VM is hot-plugged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "params.h"
#include "refcache.h"
#include "select.h"

/* One drive of a VM: its VBD and the VBD's record. */
struct drive {
	char *ref;
	struct json_object *rec;
};

struct drives {
	struct drive *d;
	size_t n;
};

static const char *text_of(struct json_object *rec, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, key, &v) ? json_object_get_string(v) : "";
}

static bool bool_of(struct json_object *rec, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, key, &v) && json_object_get_boolean(v);
}

static bool is_null_ref(const char *ref)
{
	return !*ref || strcmp(ref, "OpaqueRef:NULL") == 0;
}

static int by_position(const void *a, const void *b)
{
	const struct drive *x = a, *y = b;
	return atoi(text_of(x->rec, "userdevice")) - atoi(text_of(y->rec, "userdevice"));
}

static void drives_clear(struct drives *ds)
{
	for (size_t i = 0; i < ds->n; i++) {
		free(ds->d[i].ref);
		json_object_put(ds->d[i].rec);
	}
	free(ds->d);
}

/* The VM's drives of `type` (Disk or CD), by position. */
static int vm_drives(struct cli_ctx *ctx, const char *vm, const char *type, struct drives *out)
{
	struct json_object *vbds;
	if (xvm_object_get_field(ctx->conn, "VM", vm, "VBDs", &vbds) < 0)
		return cli_api_error();
	size_t n = json_object_array_length(vbds);
	int r = CLI_EXIT_OK;
	*out = (struct drives){ .d = calloc(n ? n : 1, sizeof(*out->d)) };
	if (!out->d)
		r = cli_fail("out of memory");
	for (size_t i = 0; r == CLI_EXIT_OK && i < n; i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(vbds, i));
		struct json_object *rec;
		if (xvm_object_get_record(ctx->conn, "VBD", ref, &rec) < 0) {
			r = cli_api_error();
		} else if (strcmp(text_of(rec, "type"), type) != 0) {
			json_object_put(rec);
		} else {
			out->d[out->n++] = (struct drive){ .ref = strdup(ref), .rec = rec };
		}
	}
	json_object_put(vbds);
	if (r) {
		drives_clear(out);
		return r;
	}
	qsort(out->d, out->n, sizeof(*out->d), by_position);
	return CLI_EXIT_OK;
}

/* The one VM the command selects (vm=, uuid= or filters). */
static int one_vm(struct cli_ctx *ctx, char **vm)
{
	struct json_object *refs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	*vm = strdup(json_object_get_string(json_object_array_get_idx(refs, 0)));
	json_object_put(refs);
	return *vm ? CLI_EXIT_OK : cli_fail("out of memory");
}

/* The VM and its drives of `type`. */
static int vm_and_drives(struct cli_ctx *ctx, const char *type, char **vm, struct drives *ds)
{
	int r = one_vm(ctx, vm);
	if (r == CLI_EXIT_OK && (r = vm_drives(ctx, *vm, type, ds)))
		free(*vm);
	return r;
}

/* Hot-plugs a new drive into its VM if the VM runs; else the next start attaches it. */
static int plug_if_live(struct cli_ctx *ctx, const char *vm, const char *vbd)
{
	struct json_object *power;
	if (xvm_object_get_field(ctx->conn, "VM", vm, "power_state", &power) < 0)
		return cli_api_error();
	const char *p = json_object_get_string(power);
	bool live = strcmp(p, "Running") == 0 || strcmp(p, "Paused") == 0;
	json_object_put(power);
	return live ? cli_call(ctx, "VBD.plug", cli_args_of(vbd, NULL), NULL) : CLI_EXIT_OK;
}

/* Takes a drive out of its running VM first if it is attached; *unplugged says so. */
static int unplug_if_attached(struct cli_ctx *ctx, const struct drive *d, bool *unplugged)
{
	*unplugged = bool_of(d->rec, "currently_attached");
	return *unplugged ? cli_call(ctx, "VBD.unplug", cli_args_of(d->ref, NULL), NULL) : CLI_EXIT_OK;
}

/* Prints one record of cls showing the named fields. */
static void print_record(struct cli_ctx *ctx, const char *cls, const char *const *names, struct json_object *rec)
{
	const struct xvm_class_info *c = xvm_class_lookup(cls);
	const struct xvm_field_info *fields[16];
	size_t n = 0;
	for (; names[n] && n < sizeof(fields) / sizeof(fields[0]); n++)
		fields[n] = xvm_class_field(c, names[n]);
	cli_print_records(stdout, ctx->fmt, fields, n, &rec, 1, cli_refcache_uuid, ctx->refs);
}

struct drive_view {
	const char *type;                      /* Disk or CD */
	const char *const *vbd_fields, *const *vdi_fields;
};

/* xe's vm-disk-list / vm-cd-list: each drive's VBD, then its VDI; --minimal and --json: the VBDs. */
static int list_drives(struct cli_ctx *ctx, const struct drive_view *view)
{
	char *vm;
	struct drives ds;
	int r = vm_and_drives(ctx, view->type, &vm, &ds);
	if (r)
		return r;
	free(vm);
	if (ctx->fmt != CLI_FORMAT_TEXT) {
		const struct xvm_class_info *c = xvm_class_lookup("VBD");
		const struct xvm_field_info *fields[16];
		struct json_object **recs = calloc(ds.n ? ds.n : 1, sizeof(*recs));
		size_t n = 0;
		for (; view->vbd_fields[n] && n < sizeof(fields) / sizeof(fields[0]); n++)
			fields[n] = xvm_class_field(c, view->vbd_fields[n]);
		for (size_t i = 0; recs && i < ds.n; i++)
			recs[i] = ds.d[i].rec;
		if (recs)
			cli_print_records(stdout, ctx->fmt, fields, n, recs, ds.n, cli_refcache_uuid, ctx->refs);
		else
			r = cli_fail("out of memory");
		free(recs);
		drives_clear(&ds);
		return r;
	}
	for (size_t i = 0; r == CLI_EXIT_OK && i < ds.n; i++) {
		const char *pos = text_of(ds.d[i].rec, "userdevice"), *vdi = text_of(ds.d[i].rec, "VDI");
		printf("%s%s %s VBD:\n", i ? "\n" : "", view->type, pos);
		print_record(ctx, "VBD", view->vbd_fields, ds.d[i].rec);
		struct json_object *rec;
		if (is_null_ref(vdi))
			continue;
		if (xvm_object_get_record(ctx->conn, "VDI", vdi, &rec) < 0) {
			r = cli_api_error();
			break;
		}
		printf("\n%s %s VDI:\n", view->type, pos);
		print_record(ctx, "VDI", view->vdi_fields, rec);
		json_object_put(rec);
	}
	drives_clear(&ds);
	return r;
}

/* --- disks ------------------------------------------------------------------------ */

/* sr-uuid=, else the pool's default SR. */
static int disk_sr(struct cli_ctx *ctx, char **sr)
{
	if (cli_args_get(ctx->args, "sr-uuid"))
		return cli_lookup_uuid(ctx, "SR", "sr-uuid", sr);
	struct json_object *pools, *def = NULL;
	if (xvm_object_get_all(ctx->conn, "pool", &pools) < 0)
		return cli_api_error();
	int r = CLI_EXIT_OK;
	if (json_object_array_length(pools) == 0)
		r = cli_fail("there is no pool to take the default SR from: give sr-uuid=");
	else if (xvm_object_get_field(ctx->conn, "pool", json_object_get_string(json_object_array_get_idx(pools, 0)),
				      "default_SR", &def) < 0)
		r = cli_api_error();
	else if (is_null_ref(json_object_get_string(def)))
		r = cli_fail("the pool has no default SR: give sr-uuid=");
	else if (!(*sr = strdup(json_object_get_string(def))))
		r = cli_fail("out of memory");
	json_object_put(def);
	json_object_put(pools);
	return r;
}

/* name-label=, else "VM-NAME disk". */
static int disk_name(struct cli_ctx *ctx, const char *vm, char **name)
{
	const struct cli_param *p = cli_args_get(ctx->args, "name-label");
	struct json_object *label;
	if (p)
		return (*name = strdup(p->value)) ? CLI_EXIT_OK : cli_fail("out of memory");
	if (xvm_object_get_field(ctx->conn, "VM", vm, "name_label", &label) < 0)
		return cli_api_error();
	int r = asprintf(name, "%s disk", json_object_get_string(label)) < 0 ? cli_fail("out of memory") : CLI_EXIT_OK;
	json_object_put(label);
	return r;
}

/* VDI.create + VBD.create (+ VBD.plug when the VM runs), each undone if a later one fails; prints the VDI. */
int cli_run_vm_disk_add(struct cli_ctx *ctx)
{
	char *vm, *sr = NULL, *name = NULL, *vdi = NULL, *vbd = NULL;
	int r = one_vm(ctx, &vm);
	if (r)
		return r;
	if ((r = disk_sr(ctx, &sr)) || (r = disk_name(ctx, vm, &name)) ||
	    (r = cli_new_vdi(ctx, sr, name, cli_param_size(ctx, "disk-size"), &vdi)))
		goto out;
	if ((r = cli_new_vbd(ctx, vm, vdi, "Disk", "RW", false, &vbd)) == CLI_EXIT_OK &&
	    (r = plug_if_live(ctx, vm, vbd)))
		cli_call_quietly(ctx, "VBD.destroy", vbd);
	if (r)
		cli_call_quietly(ctx, "VDI.destroy", vdi);
	else
		r = cli_print_uuid_of(ctx, "VDI", vdi);
out:
	free(vm);
	free(sr);
	free(name);
	free(vdi);
	free(vbd);
	return r;
}

static const char *const disk_vbd_fields[] = { "uuid", "VM", "userdevice", "device", "mode", "bootable",
					       "currently_attached", "VDI", NULL };
static const char *const disk_vdi_fields[] = { "uuid", "name_label", "SR", "virtual_size", "physical_utilisation",
					       NULL };

int cli_run_vm_disk_list(struct cli_ctx *ctx)
{
	static const struct drive_view disks = { "Disk", disk_vbd_fields, disk_vdi_fields };
	return list_drives(ctx, &disks);
}

/* The drive at position device=, or NULL. */
static const struct drive *at_device(const struct cli_ctx *ctx, const struct drives *ds)
{
	const char *device = cli_param_text(ctx, "device", "");
	for (size_t i = 0; i < ds->n; i++)
		if (strcmp(text_of(ds->d[i].rec, "userdevice"), device) == 0)
			return &ds->d[i];
	return NULL;
}

/* Unplugs the disk from a running VM, then destroys its VDI (and so the VBD); replugs if that fails. */
int cli_run_vm_disk_remove(struct cli_ctx *ctx)
{
	char *vm;
	struct drives ds;
	int r = vm_and_drives(ctx, "Disk", &vm, &ds);
	if (r)
		return r;
	const struct drive *d = at_device(ctx, &ds);
	bool unplugged = false;
	if (!d)
		r = cli_fail("the VM has no disk at device %s", cli_param_text(ctx, "device", ""));
	else if ((r = unplug_if_attached(ctx, d, &unplugged)) == CLI_EXIT_OK &&
		 (r = cli_call(ctx, "VDI.destroy", cli_args_of(text_of(d->rec, "VDI"), NULL), NULL)) && unplugged)
		cli_call_quietly(ctx, "VBD.plug", d->ref);
	drives_clear(&ds);
	free(vm);
	return r;
}

/* --- CDs ------------------------------------------------------------------------- */

static bool in_set(const char *ref, void *set)
{
	return json_object_object_get_ex(set, ref, NULL);
}

/* The VDIs of the SRs whose content is iso. */
int cli_run_cd_list(struct cli_ctx *ctx)
{
	static const char *const sr_fields[] = { "content_type", NULL }, *const vdi_fields[] = { "SR", NULL };
	struct json_object *srs, *vdis;
	if (xvm_object_get_all_records_fields(ctx->conn, "SR", sr_fields, &srs) < 0)
		return cli_api_error();
	if (xvm_object_get_all_records_fields(ctx->conn, "VDI", vdi_fields, &vdis) < 0) {
		json_object_put(srs);
		return cli_api_error();
	}
	struct json_object *isos = json_object_new_object();
	json_object_object_foreach(vdis, ref, rec) {
		struct json_object *sr;
		if (json_object_object_get_ex(srs, text_of(rec, "SR"), &sr) && strcmp(text_of(sr, "content_type"), "iso") == 0)
			json_object_object_add(isos, ref, NULL);
	}
	int r = cli_list_where(ctx, in_set, isos);
	json_object_put(isos);
	json_object_put(vdis);
	json_object_put(srs);
	return r;
}

/* The VDI cd-name= names (name-label or UUID), or OpaqueRef:NULL without one. */
static int cd_vdi(struct cli_ctx *ctx, char **vdi)
{
	const struct cli_param *p = cli_args_get(ctx->args, "cd-name");
	if (p)
		return cli_lookup(ctx, "VDI", p->value, vdi);
	return (*vdi = strdup("OpaqueRef:NULL")) ? CLI_EXIT_OK : cli_fail("out of memory");
}

/* A CD drive at device=, holding cd-name= or empty; hot-plugged into a running VM. */
int cli_run_vm_cd_add(struct cli_ctx *ctx)
{
	char *vm, *vdi = NULL, *vbd;
	int r = one_vm(ctx, &vm);
	if (r == CLI_EXIT_OK && (r = cd_vdi(ctx, &vdi)) == CLI_EXIT_OK &&
	    (r = cli_new_vbd(ctx, vm, vdi, "CD", "RO", false, &vbd)) == CLI_EXIT_OK) {
		if ((r = plug_if_live(ctx, vm, vbd)))
			cli_call_quietly(ctx, "VBD.destroy", vbd);
		free(vbd);
	}
	free(vdi);
	free(vm);
	return r;
}

/* The VM's first CD drive that is empty (want_empty) or holds a disc, else its first one. */
static int pick_cd(struct cli_ctx *ctx, bool want_empty, char **vbd)
{
	char *vm;
	struct drives ds;
	int r = vm_and_drives(ctx, "CD", &vm, &ds);
	if (r)
		return r;
	if (ds.n == 0) {
		r = cli_fail("the VM has no CD drive: add one with vm-cd-add");
	} else {
		size_t i = 0;
		while (i < ds.n && bool_of(ds.d[i].rec, "empty") != want_empty)
			i++;
		*vbd = strdup(ds.d[i < ds.n ? i : 0].ref);
	}
	drives_clear(&ds);
	free(vm);
	return r;
}

int cli_run_vm_cd_insert(struct cli_ctx *ctx)
{
	char *vbd, *vdi;
	int r = pick_cd(ctx, true, &vbd);
	if (r)
		return r;
	if ((r = cd_vdi(ctx, &vdi)) == CLI_EXIT_OK) {
		r = cli_call(ctx, "VBD.insert", cli_args_of(vbd, vdi, NULL), NULL);
		free(vdi);
	}
	free(vbd);
	return r;
}

int cli_run_vm_cd_eject(struct cli_ctx *ctx)
{
	char *vbd;
	int r = pick_cd(ctx, false, &vbd);
	if (r)
		return r;
	r = cli_call(ctx, "VBD.eject", cli_args_of(vbd, NULL), NULL);
	free(vbd);
	return r;
}

int cli_check_vm_cd_remove(struct cli_ctx *ctx)
{
	if (!cli_args_get(ctx->args, "cd-name") == !cli_args_get(ctx->args, "device"))
		return cli_usage(ctx, "say which drive: cd-name= (the disc it holds) or device= (its position)");
	return CLI_EXIT_OK;
}

/* Removes the drives holding cd-name=, or the one at device=, unplugging them from a running VM. */
int cli_run_vm_cd_remove(struct cli_ctx *ctx)
{
	char *vm, *vdi = NULL;
	struct drives ds;
	int r = vm_and_drives(ctx, "CD", &vm, &ds);
	if (r)
		return r;
	const struct drive *only = NULL;
	if (cli_args_get(ctx->args, "cd-name"))
		r = cd_vdi(ctx, &vdi);
	else if (!(only = at_device(ctx, &ds)))
		r = cli_fail("the VM has no CD drive at device %s", cli_param_text(ctx, "device", ""));
	size_t removed = 0;
	for (size_t i = 0; r == CLI_EXIT_OK && i < ds.n; i++) {
		const struct drive *d = &ds.d[i];
		bool unplugged;
		if (only ? d != only : strcmp(text_of(d->rec, "VDI"), vdi) != 0)
			continue;
		if ((r = unplug_if_attached(ctx, d, &unplugged)) == CLI_EXIT_OK &&
		    (r = cli_call(ctx, "VBD.destroy", cli_args_of(d->ref, NULL), NULL)) && unplugged)
			cli_call_quietly(ctx, "VBD.plug", d->ref);
		removed++;
	}
	if (r == CLI_EXIT_OK && removed == 0)
		r = cli_fail("no CD drive of the VM holds %s", cli_param_text(ctx, "cd-name", ""));
	drives_clear(&ds);
	free(vdi);
	free(vm);
	return r;
}

static const char *const cd_vbd_fields[] = { "uuid", "VM", "userdevice", "device", "empty", "currently_attached",
					     "VDI", NULL };
static const char *const cd_vdi_fields[] = { "uuid", "name_label", "SR", "virtual_size", NULL };

int cli_run_vm_cd_list(struct cli_ctx *ctx)
{
	static const struct drive_view cds = { "CD", cd_vbd_fields, cd_vdi_fields };
	return list_drives(ctx, &cds);
}
