/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM.import_from_file: an OVA (its tar extracted into a staging directory in
 * the state dir) or an OVF with its files beside it. The manifest is checked
 * and the descriptor read before anything is made; then the VM, its disks
 * (VDI.import_from_file of each VMDK), CD drives and VIFs. A failure at any
 * point deletes what was made: no VM, no VDI, no staging files stay.
 */
#include "templates/ova.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/inflight.h"
#include "lifecycle/oplock.h"
#include "lifecycle/vm_install.h"
#include "network/network.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/storage.h"
#include "store/store.h"
#include "templates/ova_files.h"
#include "templates/ova_tar.h"
#include "templates/ovf.h"

#define DESCRIPTOR_MAX (16u << 20)

struct import {
	struct engine *e;
	const char *filename;
	char *staging;       /* extracted members, unpacked disks */
	char *dir;           /* where the package's files are: staging for an OVA */
	char *descriptor;    /* its path */
	char *manifest;      /* its path, NULL if none */
	struct ova_member *members;
	size_t nmembers;
	struct ovf_vm ovf;
	char ref[XVM_REF_BUFLEN]; /* the new VM's, locked from the start: its task shows the progress */
	struct inflight mark;
	bool made;           /* the VM record exists */
	char *loose_vdi;     /* a VDI made but not yet in a VBD */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int bad(struct import *im, const char *why)
{
	return ERR2(XVM_ERR_IMPORT_ERROR, im->filename, why, "cannot import %s: %s", im->filename, why);
}

/* The package's files: extracted from the OVA, or those beside the OVF. */
static int open_package(struct import *im)
{
	char *state_base;
	if (asprintf(&state_base, "%s/import", im->e->state_dir) < 0)
		return error_oom();
	int r = ova_staging_make(state_base, &im->staging);
	free(state_base);
	if (r < 0)
		return r;
	if (ends_with(im->filename, ".ovf")) {
		const char *slash = strrchr(im->filename, '/');
		im->dir = slash ? strndup(im->filename, (size_t)(slash - im->filename)) : strdup(".");
		im->descriptor = strdup(im->filename);
		if (!im->dir || !im->descriptor || asprintf(&im->manifest, "%.*s.mf", (int)(strlen(im->filename) - 4),
							     im->filename) < 0)
			return error_oom();
		if (access(im->manifest, F_OK) < 0) {
			free(im->manifest);
			im->manifest = NULL;
		}
		return 0;
	}
	if ((r = ova_tar_extract(im->filename, im->staging, &im->members, &im->nmembers)) < 0)
		return r;
	if (!ends_with(im->members[0].name, ".ovf"))
		return bad(im, "the first member of the archive is not an .ovf descriptor");
	if (!(im->dir = strdup(im->staging)) || asprintf(&im->descriptor, "%s/%s", im->dir, im->members[0].name) < 0)
		return error_oom();
	for (size_t i = 1; i < im->nmembers; i++)
		if (!im->manifest && ends_with(im->members[i].name, ".mf") &&
		    asprintf(&im->manifest, "%s/%s", im->dir, im->members[i].name) < 0)
			return error_oom();
	return 0;
}

/* The SHA-256 of a file of the package: computed while extracting, or now. */
static int digest_of(struct import *im, const char *name, char hex[SHA256_HEX_LEN])
{
	for (size_t i = 0; i < im->nmembers; i++)
		if (strcmp(im->members[i].name, name) == 0) {
			memcpy(hex, im->members[i].sha256, SHA256_HEX_LEN);
			return 0;
		}
	if (im->nmembers) {
		char why[400];
		snprintf(why, sizeof(why), "the manifest lists %s, which the archive does not hold", name);
		return bad(im, why);
	}
	char *path;
	if (strchr(name, '/') || asprintf(&path, "%s/%s", im->dir, name) < 0)
		return strchr(name, '/') ? bad(im, "the manifest names a file outside the package") : error_oom();
	int r = ova_sha256_file(path, hex);
	free(path);
	return r;
}

/* Every line "SHA256(name)= hex" must match the file. */
static int check_manifest(struct import *im)
{
	if (!im->manifest)
		return 0;
	char *text = NULL;
	size_t len;
	int r = ova_read_small(im->manifest, DESCRIPTOR_MAX, &text, &len);
	for (char *line = text, *next; r == 0 && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char name[256], want[130], got[SHA256_HEX_LEN], why[400];
		if (!*line || strspn(line, " \r\t") == strlen(line))
			continue;
		if (sscanf(line, "SHA256(%255[^)])= %129s", name, want) != 2) {
			snprintf(why, sizeof(why), "manifest line '%.200s' is not a SHA256 digest", line);
			r = bad(im, why);
		} else if ((r = digest_of(im, name, got)) == 0 && strcasecmp(got, want) != 0) {
			snprintf(why, sizeof(why), "the SHA256 digest of %s does not match the manifest", name);
			r = bad(im, why);
		}
	}
	free(text);
	return r;
}

/* Each disk's file is in the package, of the size the descriptor gives; a
 * compressed one is unpacked into the staging directory. */
static int check_disks(struct import *im)
{
	for (size_t i = 0; i < im->ovf.ndisks; i++) {
		struct ovf_disk *d = &im->ovf.disks[i];
		char *path, why[400];
		struct stat st;
		if (strchr(d->file, '/'))
			return bad(im, "a disk file is named with a directory");
		if (asprintf(&path, "%s/%s", im->dir, d->file) < 0)
			return error_oom();
		int r = 0;
		if (stat(path, &st) < 0) {
			snprintf(why, sizeof(why), "the package has no file %s for disk %s", d->file, d->name);
			r = bad(im, why);
		} else if (d->file_size && (uint64_t)st.st_size != d->file_size) {
			snprintf(why, sizeof(why), "file %s has %lld bytes; the descriptor says %llu", d->file,
				 (long long)st.st_size, (unsigned long long)d->file_size);
			r = bad(im, why);
		} else if (d->gzip) {
			char *raw;
			if (asprintf(&raw, "%s/%s.unpacked", im->staging, d->file) < 0)
				r = error_oom();
			else if ((r = ova_gunzip(path, raw)) == 0) {
				free(path);
				path = raw;
			} else {
				free(raw);
			}
		}
		if (r < 0) {
			free(path);
			return r;
		}
		/* From here the File's href names the image to import. */
		free(d->file);
		d->file = path;
	}
	return 0;
}

static int default_sr(struct engine *e, char **ret)
{
	struct json_object *pools, *rec;
	static const char *const fields[] = { "default_SR", NULL };
	int r = rec_all_refs(e, &class_pool, &pools);
	if (r < 0)
		return r;
	const char *pool = json_object_array_length(pools) ? json_object_get_string(json_object_array_get_idx(pools, 0))
							     : NULL;
	if (pool && (r = rec_read_fields(e, &class_pool, pool, fields, &rec)) == 0) {
		*ret = ref_is_null(rec_str(rec, "default_SR")) ? NULL : strdup(rec_str(rec, "default_SR"));
		json_object_put(rec);
	}
	json_object_put(pools);
	if (r == 0 && !pool)
		*ret = NULL;
	return r;
}

/* xvm's own fields, each of its field's type: IMPORT_ERROR naming the one that is not. */
static int add_xvm_fields(struct import *im, struct json_object *vm)
{
	struct json_object *v, *ok;
	for (const struct field_def *f = class_vm.fields; f->info.name; f++) {
		if (!ova_is_xvm_field(f) || !json_object_object_get_ex(im->ovf.xvm, f->info.name, &v))
			continue;
		if (field_coerce(&class_vm, f, v, &ok) < 0) {
			char why[200];
			snprintf(why, sizeof(why), "xvm's VMSection gives %s a value of the wrong type", f->info.name);
			return bad(im, why);
		}
		json_object_object_add(vm, f->info.name, ok);
	}
	return 0;
}

/* The VM record: the descriptor's name, vCPUs and memory; xvm's own fields when it has them. */
static int vm_fields(struct import *im, struct json_object *vm)
{
	const struct ovf_vm *ovf = &im->ovf;
	json_object_object_add(vm, "HVM_boot_policy", json_object_new_string("BIOS order"));
	struct json_object *boot = json_object_new_object();
	json_object_object_add(boot, "order", json_object_new_string("cd"));
	json_object_object_add(vm, "HVM_boot_params", boot);
	int r = ovf->xvm ? add_xvm_fields(im, vm) : 0;
	json_object_object_add(vm, "name_label", json_object_new_string(ovf->name));
	json_object_object_add(vm, "name_description", json_object_new_string(ovf->description));
	if (!ovf->xvm) {
		static const char *const mem[] = { "memory_static_max", "memory_dynamic_max", "memory_dynamic_min",
						   "memory_static_min" };
		for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
			json_object_object_add(vm, mem[i], json_object_new_int64(ovf->memory));
		json_object_object_add(vm, "VCPUs_max", json_object_new_int64(ovf->vcpus));
		json_object_object_add(vm, "VCPUs_at_startup", json_object_new_int64(ovf->vcpus));
	}
	return r;
}

static int make_vm(struct import *im)
{
	struct engine *e = im->e;
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	const char *ref = im->ref;
	char mref[XVM_REF_BUFLEN], now[XVM_DATETIME_BUFLEN];
	ref_generate(mref);
	datetime_format(time(NULL), now);
	struct json_object *metrics = json_object_new_object(), *vm = json_object_new_object();
	json_object_object_add(metrics, "install_time", json_object_new_string(now));
	json_object_object_add(vm, "metrics", json_object_new_string(mref));
	if ((r = vm_fields(im, vm)) < 0 || (r = rec_insert(e, &class_vm_metrics, mref, metrics)) < 0 ||
	    (r = rec_insert(e, &class_vm, ref, vm)) < 0 ||
	    (r = class_vm.check ? class_vm.check(e, ref, vm) : 0) < 0 || (r = store_commit(e->store)) < 0)
		store_rollback(e->store);
	json_object_put(metrics);
	json_object_put(vm);
	im->made = r == 0;
	return r;
}

static void set_position(struct json_object *rec, const char *key, int position)
{
	char s[16];
	snprintf(s, sizeof(s), "%d", position);
	json_object_object_add(rec, key, json_object_new_string(position >= 0 ? s : "autodetect"));
}

static int make_disk(struct import *im, const char *sr, const struct ovf_disk *d, const struct qemu_img_progress *progress)
{
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "SR", json_object_new_string(sr));
	json_object_object_add(rec, "virtual_size", json_object_new_int64((int64_t)d->capacity));
	json_object_object_add(rec, "name_label", json_object_new_string(d->name));
	int r = vdi_create(im->e, rec, &im->loose_vdi);
	json_object_put(rec);
	if (r < 0)
		return r;
	rec = json_object_new_object();
	char *vbd = NULL;
	json_object_object_add(rec, "VM", json_object_new_string(im->ref));
	json_object_object_add(rec, "VDI", json_object_new_string(im->loose_vdi));
	set_position(rec, "userdevice", d->position);
	json_object_object_add(rec, "bootable", json_object_new_boolean(d->bootable));
	r = vbd_create(im->e, rec, &vbd);
	json_object_put(rec);
	free(vbd);
	if (r < 0)
		return r;
	/* Now the VM's: uninstalling the VM deletes it. */
	char *vdi = im->loose_vdi;
	im->loose_vdi = NULL;
	r = vdi_import_progress(im->e, vdi, d->file, "vmdk", progress);
	free(vdi);
	return r;
}

/* The ISO of that name in an ISO library, or the null reference: a disc this host lacks leaves the drive empty. */
static int find_iso(struct engine *e, const char *name, char ref[XVM_REF_BUFLEN])
{
	snprintf(ref, XVM_REF_BUFLEN, "%s", XVM_NULL_REF);
	if (!*name)
		return 0;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	struct json_object *refs = NULL;
	static const char *const vdi_fields[] = { "SR", NULL }, *const sr_fields[] = { "type", NULL };
	r = rec_find(e, &class_vdi, "name_label", name, &refs);
	for (size_t i = 0; r == 0 && i < json_object_array_length(refs) && ref_is_null(ref); i++) {
		const char *vdi = json_object_get_string(json_object_array_get_idx(refs, i));
		struct json_object *v, *s;
		if ((r = rec_read_fields(e, &class_vdi, vdi, vdi_fields, &v)) < 0)
			break;
		if ((r = rec_read_fields(e, &class_sr, rec_str(v, "SR"), sr_fields, &s)) == 0) {
			if (strcmp(rec_str(s, "type"), "iso") == 0)
				snprintf(ref, XVM_REF_BUFLEN, "%s", vdi);
			json_object_put(s);
		}
		json_object_put(v);
	}
	store_rollback(e->store);
	json_object_put(refs);
	return r;
}

static int make_cd(struct import *im, const struct ovf_cd *cd)
{
	char iso[XVM_REF_BUFLEN], *vbd = NULL;
	int r = find_iso(im->e, cd->iso, iso);
	if (r < 0)
		return r;
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "VM", json_object_new_string(im->ref));
	json_object_object_add(rec, "VDI", json_object_new_string(iso));
	json_object_object_add(rec, "type", json_object_new_string("CD"));
	json_object_object_add(rec, "mode", json_object_new_string("RO"));
	set_position(rec, "userdevice", cd->position);
	r = vbd_create(im->e, rec, &vbd);
	json_object_put(rec);
	free(vbd);
	return r;
}

/* The VIFs, in one transaction: on the network of the same name, else the default one (NAT). */
static int make_nics(struct import *im, bool preserve)
{
	struct engine *e = im->e;
	int r = store_begin_write(e->store);
	for (size_t i = 0; r == 0 && i < im->ovf.nnics; i++) {
		const struct ovf_nic *n = &im->ovf.nics[i];
		char *net = NULL, ref[XVM_REF_BUFLEN], dev[16];
		bool named = n->network && *n->network;
		if ((r = rec_find_one(e, &class_network, "name_label", named ? n->network : "", &net)) < 0)
			break;
		/* A network this host lacks stays named, for the next export. */
		struct json_object *oc = NULL;
		if (!net && named) {
			oc = json_object_new_object();
			json_object_object_add(oc, OVA_NETWORK_KEY, json_object_new_string(n->network));
		}
		if (!net && (r = network_default(e, &net)) == 0 && !net)
			r = ERR1(XVM_ERR_HANDLE_INVALID, "network", "the OVA's VM has NICs, and this host has no network "
				 "of their name nor a default one (\"%s\")", NETWORK_NAT_NAME);
		snprintf(dev, sizeof(dev), "%d", n->position >= 0 ? n->position : (int)i);
		if (r == 0)
			r = vif_insert(e, im->ref, net, dev, preserve && n->mac ? n->mac : "", oc, ref);
		json_object_put(oc);
		free(net);
	}
	if (r == 0)
		r = store_commit(e->store);
	else
		store_rollback(e->store);
	return r;
}

static int build(struct import *im, const char *sr, bool preserve)
{
	char *dflt = NULL;
	int r = 0;
	if (!sr || ref_is_null(sr)) {
		if ((r = store_begin_read(im->e->store)) < 0)
			return r;
		r = default_sr(im->e, &dflt);
		store_rollback(im->e->store);
		if (r < 0)
			return r;
		if (!dflt && im->ovf.ndisks)
			return ERR2(XVM_ERR_INVALID_VALUE, "sr", "", "there is no default SR: name one with sr-uuid=");
		sr = dflt;
	}
	uint64_t total = 1, done = 0;
	for (size_t i = 0; i < im->ovf.ndisks; i++)
		total += im->ovf.disks[i].capacity;
	r = make_vm(im);
	for (size_t i = 0; r == 0 && i < im->ovf.ndisks; i++) {
		struct ova_progress p;
		ova_progress_init(&p, &im->mark, (double)done / (double)total,
				  (double)im->ovf.disks[i].capacity / (double)total);
		r = make_disk(im, sr, &im->ovf.disks[i], &p.q);
		done += im->ovf.disks[i].capacity;
	}
	for (size_t i = 0; r == 0 && i < im->ovf.ncds; i++)
		r = make_cd(im, &im->ovf.cds[i]);
	if (r == 0)
		r = make_nics(im, preserve);
	free(dflt);
	return r;
}

/* Deletes what a failed import made, keeping its error; the VM's lock is released. */
static void undo(struct import *im)
{
	void *first = error_stash();
	if (im->loose_vdi)
		vdi_destroy(im->e, im->loose_vdi);
	if (im->made)
		vm_uninstall(im->e, im->ref);
	error_unstash(first);
}

static int import_locked(struct import *im, const char *sr, bool preserve)
{
	char *xml = NULL;
	size_t len;
	int r;
	if ((r = open_package(im)) == 0 && (r = check_manifest(im)) == 0 &&
	    (r = ova_read_small(im->descriptor, DESCRIPTOR_MAX, &xml, &len)) == 0 &&
	    (r = ovf_parse(im->filename, xml, len, &im->ovf)) == 0 && (r = check_disks(im)) == 0)
		r = build(im, sr, preserve);
	free(xml);
	return r;
}

int vm_import_from_file(struct engine *e, const char *filename, const char *sr, struct json_object *options,
			struct json_object **vms)
{
	bool preserve;
	int r = ova_option_bool(options, "preserve", &preserve);
	if (r < 0)
		return r;
	if (!filename || !*filename)
		return ERR2(XVM_ERR_INVALID_VALUE, "filename", "", "an import needs a file name");
	struct import im = { .e = e, .filename = filename };
	struct oplock lock;
	ref_generate(im.ref);
	if ((r = oplock_try(e, "VM", im.ref, &lock)) < 0)
		return r;
	if ((r = inflight_begin(e, &lock, "VM", im.ref, "import", &im.mark)) == 0) {
		r = import_locked(&im, sr, preserve);
		inflight_end(&im.mark);
	}
	oplock_release(&lock);
	if (r < 0)
		undo(&im);
	else {
		*vms = json_object_new_array();
		json_object_array_add(*vms, json_object_new_string(im.ref));
	}
	free(im.loose_vdi);
	free(im.dir);
	free(im.descriptor);
	free(im.manifest);
	free(im.members);
	ovf_vm_clear(&im.ovf);
	ova_staging_remove(im.staging);
	return r;
}
