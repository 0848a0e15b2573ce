/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM.export_to_file: an OVA of a halted VM, template or snapshot. The disks
 * are converted to streamOptimized VMDK (what VMware and VirtualBox read) in
 * a staging directory beside the file, then the tar is written as
 * FILENAME.partial: descriptor, disks, manifest; renamed once complete.
 * An OVA has no place for a vTPM (XenServer leaves it out too): a VM with one
 * is refused, unless the caller says without_vtpm=true and so chooses an
 * export whose VM starts with no TPM (its keys stay with this VM).
 */
#include "templates/ova.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/vm_op.h"
#include "lifecycle/vtpm.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/storage.h"
#include "store/store.h"
#include "templates/ova_files.h"
#include "templates/ova_tar.h"
#include "templates/ovf.h"

int ova_option_bool(struct json_object *options, const char *key, bool *ret)
{
	struct json_object *v;
	*ret = false;
	if (!options || !json_object_object_get_ex(options, key, &v))
		return 0;
	const char *s = json_object_get_string(v);
	if (json_object_is_type(v, json_type_boolean) || strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*ret = json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : strcmp(s, "true") == 0;
		return 0;
	}
	return ERR2(XVM_ERR_INVALID_VALUE, key, s, "option %s must be true or false, not '%s'", key, s);
}

bool ova_is_xvm_field(const struct field_def *f)
{
	return f->info.qualifier == XVM_QUAL_RW && f->info.type != XVM_TYPE_REF && field_is_stored(f);
}

/* The VM's configuration, for xvm's section. */
static struct json_object *xvm_fields(struct json_object *rec)
{
	struct json_object *out = json_object_new_object(), *v;
	for (const struct field_def *f = class_vm.fields; f->info.name; f++)
		if (ova_is_xvm_field(f) && json_object_object_get_ex(rec, f->info.name, &v))
			json_object_object_add(out, f->info.name, json_object_get(v));
	return out;
}

static int position_of(struct json_object *rec, const char *field)
{
	int64_t v;
	return parse_int64(rec_str(rec, field), &v) == 0 && v >= 0 && v < 1024 ? (int)v : 0;
}

/* A drive of the VM into the descriptor; a disk's VDI goes into vdis. */
static int add_vbd(struct engine *e, const char *vbd, struct ovf_vm *ovf, struct json_object *vdis)
{
	static const char *const fields[] = { "VDI", "type", "userdevice", "bootable", "empty", NULL };
	static const char *const vdi_fields[] = { "name_label", "virtual_size", NULL };
	struct json_object *b, *d = NULL;
	int r = rec_read_fields(e, &class_vbd, vbd, fields, &b);
	if (r < 0)
		return r;
	bool disk = strcmp(rec_str(b, "type"), "CD") != 0;
	if (!ref_is_null(rec_str(b, "VDI")) && (r = rec_read_fields(e, &class_vdi, rec_str(b, "VDI"), vdi_fields, &d)) < 0) {
		json_object_put(b);
		return r;
	}
	if (disk && d) {
		struct ovf_disk *g = realloc(ovf->disks, (ovf->ndisks + 1) * sizeof(*g));
		if (g) {
			ovf->disks = g;
			g[ovf->ndisks++] = (struct ovf_disk){ .capacity = (uint64_t)rec_int(d, "virtual_size"),
							      .name = strdup(rec_str(d, "name_label")),
							      .position = position_of(b, "userdevice"),
							      .bootable = rec_bool(b, "bootable") };
			json_object_array_add(vdis, json_object_new_string(rec_str(b, "VDI")));
		}
		r = g && g[ovf->ndisks - 1].name ? 0 : error_oom();
	} else if (!disk) {
		struct ovf_cd *g = realloc(ovf->cds, (ovf->ncds + 1) * sizeof(*g));
		if (g) {
			ovf->cds = g;
			g[ovf->ncds++] = (struct ovf_cd){ .iso = strdup(d ? rec_str(d, "name_label") : ""),
							  .position = position_of(b, "userdevice") };
		}
		r = g && g[ovf->ncds - 1].iso ? 0 : error_oom();
	}
	json_object_put(b);
	json_object_put(d);
	return r;
}

static int add_vif(struct engine *e, const char *vif, struct ovf_vm *ovf)
{
	static const char *const fields[] = { "network", "MAC", "device", "other_config", "VM", NULL };
	static const char *const net_fields[] = { "name_label", NULL };
	static const char *const vm_fields[] = { "platform", NULL };
	struct json_object *v, *n = NULL, *vm = NULL, *platform, *model;
	int r = rec_read_fields(e, &class_vif, vif, fields, &v);
	if (r < 0)
		return r;
	if ((!ref_is_null(rec_str(v, "network")) &&
	     (r = rec_read_fields(e, &class_network, rec_str(v, "network"), net_fields, &n)) < 0) ||
	    (r = rec_read_fields(e, &class_vm, rec_str(v, "VM"), vm_fields, &vm)) < 0) {
		json_object_put(v);
		json_object_put(n);
		return r;
	}
	bool e1000 = json_object_object_get_ex(vm, "platform", &platform) &&
		     json_object_object_get_ex(platform, "nic_model", &model) &&
		     strcmp(json_object_get_string(model), "e1000") == 0;
	json_object_put(vm);
	struct ovf_nic *g = realloc(ovf->nics, (ovf->nnics + 1) * sizeof(*g));
	if (g) {
		ovf->nics = g;
		struct json_object *oc, *named = NULL;
		if (json_object_object_get_ex(v, "other_config", &oc))
			json_object_object_get_ex(oc, OVA_NETWORK_KEY, &named);
		/* The name an import found no network of: the VIF's network stood in for it. */
		const char *net = named ? json_object_get_string(named) : n ? rec_str(n, "name_label") : "";
		g[ovf->nnics++] = (struct ovf_nic){ .network = strdup(net),
						    .mac = strdup(rec_str(v, "MAC")),
						    .position = position_of(v, "device"),
						    .e1000 = e1000 };
	}
	r = g && g[ovf->nnics - 1].network && g[ovf->nnics - 1].mac ? 0 : error_oom();
	json_object_put(v);
	json_object_put(n);
	return r;
}

/* For sorting VBD references by their userdevice: reads the store (inside describe's transaction). */
static _Thread_local struct engine *sort_engine;

static int userdevice_of(const char *vbd)
{
	static const char *const fields[] = { "userdevice", NULL };
	struct json_object *b;
	if (rec_read_fields(sort_engine, &class_vbd, vbd, fields, &b) < 0)
		return 0;
	int p = position_of(b, "userdevice");
	json_object_put(b);
	return p;
}

static int by_userdevice(const void *a, const void *b)
{
	int pa = userdevice_of(json_object_get_string(*(struct json_object *const *)a));
	int pb = userdevice_of(json_object_get_string(*(struct json_object *const *)b));
	return (pa > pb) - (pa < pb);
}

/* The descriptor's content from the records, and the disks' VDIs in its order. */
static int describe(struct engine *e, const char *ref, struct ovf_vm *ovf, struct json_object *vdis)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	struct json_object *rec = NULL, *list;
	sort_engine = e;
	if ((r = rec_read(e, &class_vm, ref, &rec)) == 0) {
		ovf->name = strdup(rec_str(rec, "name_label"));
		ovf->description = strdup(rec_str(rec, "name_description"));
		ovf->vcpus = rec_int(rec, "VCPUs_max");
		ovf->memory = rec_int(rec, "memory_static_max");
		ovf->xvm = xvm_fields(rec);
		if (!ovf->name || !ovf->description)
			r = error_oom();
	}
	if (r == 0 && json_object_object_get_ex(rec, "VBDs", &list)) {
		/* By position: disk N of the descriptor is the VM's Nth. */
		json_object_array_sort(list, by_userdevice);
		for (size_t i = 0; r == 0 && i < json_object_array_length(list); i++)
			r = add_vbd(e, json_object_get_string(json_object_array_get_idx(list, i)), ovf, vdis);
	}
	if (r == 0 && json_object_object_get_ex(rec, "VIFs", &list))
		for (size_t i = 0; r == 0 && i < json_object_array_length(list); i++)
			r = add_vif(e, json_object_get_string(json_object_array_get_idx(list, i)), ovf);
	store_rollback(e->store);
	json_object_put(rec);
	return r;
}

/* The name members start with: the VM's, in characters every tool takes. */
static void member_base(const char *name, char out[64])
{
	size_t n = 0;
	for (const char *p = name; *p && n < 40; p++)
		out[n++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
					  *p == '-' || *p == '_'
				  ? *p
				  : '_');
	out[n] = 0;
	if (n == 0)
		snprintf(out, 64, "vm");
}

/* Each disk as a VMDK file in dir (gzip-compressed with compress); fills the File sizes. */
static int write_disks(struct engine *e, struct vm_op *op, const char *dir, const char *base, bool compress,
		       struct ovf_vm *ovf, struct json_object *vdis, char ***paths)
{
	uint64_t total = 1, done = 0;
	for (size_t i = 0; i < ovf->ndisks; i++)
		total += ovf->disks[i].capacity;
	*paths = calloc(ovf->ndisks + 1, sizeof(char *));
	if (!*paths)
		return error_oom();
	int r = 0;
	for (size_t i = 0; r == 0 && i < ovf->ndisks; i++) {
		char *vmdk = NULL, *gz = NULL;
		if (asprintf(&ovf->disks[i].file, "%s-disk%zu.vmdk", base, i + 1) < 0 ||
		    asprintf(&vmdk, "%s/%s", dir, ovf->disks[i].file) < 0 || asprintf(&gz, "%s.gz", vmdk) < 0) {
			free(vmdk);
			return error_oom();
		}
		/* Converting is most of the work; writing the archive the rest. */
		struct ova_progress p;
		ova_progress_init(&p, &op->mark, 0.8 * (double)done / (double)total,
				  0.8 * (double)ovf->disks[i].capacity / (double)total);
		r = vdi_export_progress(e, json_object_get_string(json_object_array_get_idx(vdis, i)), vmdk, "vmdk", &p.q);
		if (r == 0 && compress && (r = ova_gzip(vmdk, gz)) == 0)
			unlink(vmdk);
		char *path = compress ? gz : vmdk;
		free(compress ? vmdk : gz);
		(*paths)[i] = path;
		struct stat st;
		if (r == 0 && stat(path, &st) < 0)
			r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "export the disk", path, "%s is missing", path);
		ovf->disks[i].file_size = r == 0 ? (uint64_t)st.st_size : 0;
		ovf->disks[i].gzip = compress;
		done += ovf->disks[i].capacity;
	}
	return r;
}

static int append_manifest(char **mf, const char *name, const char hex[SHA256_HEX_LEN])
{
	char *grown;
	if (asprintf(&grown, "%sSHA256(%s)= %s\n", *mf ? *mf : "", name, hex) < 0)
		return error_oom();
	free(*mf);
	*mf = grown;
	return 0;
}

/* descriptor, disks, manifest into the open tar fd. */
static int write_archive(struct vm_op *op, int fd, const char *out, const char *base, const struct ovf_vm *ovf,
			 char **paths)
{
	char *xml = NULL, *mf = NULL, hex[SHA256_HEX_LEN], name[80];
	size_t len;
	int r = ovf_write(ovf, &xml, &len);
	snprintf(name, sizeof(name), "%s.ovf", base);
	if (r == 0 && (r = ova_tar_add_buffer(fd, out, name, xml, len, hex)) == 0)
		r = append_manifest(&mf, name, hex);
	for (size_t i = 0; r == 0 && i < ovf->ndisks; i++) {
		if ((r = ova_tar_add_file(fd, out, ovf->disks[i].file, paths[i], hex)) == 0)
			r = append_manifest(&mf, ovf->disks[i].file, hex);
		inflight_set_progress(&op->mark, 0.8 + 0.2 * (double)(i + 1) / (double)(ovf->ndisks + 1));
	}
	snprintf(name, sizeof(name), "%s.mf", base);
	if (r == 0 && (r = ova_tar_add_buffer(fd, out, name, mf, strlen(mf), hex)) == 0)
		r = ova_tar_finish(fd, out);
	if (r == 0 && fsync(fd) < 0)
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "write the OVA", out, "cannot write %s: %s", out, strerror(errno));
	free(xml);
	free(mf);
	return r;
}

static int export_op(struct engine *e, struct vm_op *op, const char *filename, bool compress)
{
	struct ovf_vm ovf = { 0 };
	struct json_object *vdis = json_object_new_array();
	char *dir = NULL, *partial = NULL, **paths = NULL, base[64];
	int r = describe(e, op->ref, &ovf, vdis);
	member_base(ovf.name ? ovf.name : "", base);
	if (r == 0)
		r = ova_staging_make(filename, &dir);
	if (r == 0)
		r = write_disks(e, op, dir, base, compress, &ovf, vdis, &paths);
	if (r == 0 && asprintf(&partial, "%s.partial", filename) < 0)
		r = error_oom();
	if (r == 0) {
		int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "write the OVA", partial, "cannot write %s: %s", partial,
				 strerror(errno));
		else {
			r = write_archive(op, fd, partial, base, &ovf, paths);
			if (close(fd) < 0 && r == 0)
				r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "write the OVA", partial, "cannot write %s: %s",
					 partial, strerror(errno));
		}
		if (r == 0 && rename(partial, filename) < 0)
			r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "write the OVA", filename, "cannot write %s: %s", filename,
				 strerror(errno));
		if (r < 0)
			unlink(partial);
	}
	for (size_t i = 0; paths && i < ovf.ndisks; i++)
		free(paths[i]);
	free(paths);
	free(partial);
	ova_staging_remove(dir);
	ovf_vm_clear(&ovf);
	json_object_put(vdis);
	return r;
}

int vm_export_to_file(struct engine *e, const char *ref, const char *filename, struct json_object *options)
{
	bool compress, without_vtpm;
	int r = ova_option_bool(options, "compress", &compress);
	if (r < 0 || (r = ova_option_bool(options, "without_vtpm", &without_vtpm)) < 0)
		return r;
	if (!filename || !*filename)
		return ERR2(XVM_ERR_INVALID_VALUE, "filename", "", "an export needs a file name");
	struct vm_op op;
	if ((r = vm_op_begin(e, ref, "export", VM_OP_ALLOW_TEMPLATE, &op)) < 0)
		return r;
	/* A suspended VM's memory image is not part of an OVA: it must be halted. */
	if (op.power != VM_HALTED)
		return vm_op_abort(&op, vm_bad_power_state(ref, rec_str(op.rec, "name_label"), "Halted",
							   vm_power_name(op.power), "export"));
	size_t vtpms = 0;
	if ((r = vtpm_count(e, ref, &vtpms)) < 0)
		return vm_op_abort(&op, r);
	if (vtpms && !without_vtpm)
		return vm_op_abort(&op, ERR1(XVM_ERR_VM_HAS_VTPM, ref,
					     "VM %s has a vTPM, which an OVA cannot carry: export it with "
					     "without_vtpm=true to leave the TPM (and the keys in it) out",
					     rec_str(op.rec, "name_label")));
	r = export_op(e, &op, filename, compress);
	if (r < 0)
		return vm_op_abort(&op, r);
	inflight_set_progress(&op.mark, 1);
	return vm_op_end(&op, NULL, NULL);
}
