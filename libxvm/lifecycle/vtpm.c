/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vtpm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/run.h"
#include "core/util.h"
#include "lifecycle/vm_op.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

#define VTPM_MAX 1              /* XenServer's one vTPM per VM */
#define SETUP_TIMEOUT_S 120

/* STATE/vtpm/NAME (free()). */
static char *vtpm_path(struct engine *e, const char *name)
{
	char *p;
	return asprintf(&p, "%s/vtpm/%s", e->state_dir, name) < 0 ? NULL : p;
}

/* A state dir holds swtpm's files, no subdirectory. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static int io_error(const char *what, const char *path)
{
	return ERR1(XVM_ERR_INTERNAL_ERROR, path, "cannot %s %s: %s", what, path, strerror(errno));
}

/* Writes text to path through a temporary file of its own and a rename:
 * two creates at once each write a whole file. */
static int write_file(const char *path, const char *text)
{
	char tmp[4096], uuid[XVM_UUID_BUFLEN];
	uuid_generate_str(uuid);
	snprintf(tmp, sizeof(tmp), "%s.%s.tmp", path, uuid);
	FILE *f = fopen(tmp, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		int r = io_error("write", path);
		unlink(tmp);
		return r;
	}
	return 0;
}

/*
 * swtpm_setup's configuration: certificates made by swtpm_localca with a CA
 * of this host's own, in STATE/vtpm/ca (made at its first use), rather than
 * the system-wide /var/lib/swtpm-localca, so that each state dir is
 * self-contained. *conf: the swtpm_setup.conf to pass (free()).
 */
static int setup_config(struct engine *e, char **conf)
{
	char *ca = vtpm_path(e, "ca"), *text = NULL, *localca = NULL, *opts = NULL;
	*conf = NULL;
	int r = ca ? 0 : error_oom();
	if (r == 0 && mkdir_p(ca) < 0)
		r = io_error("create", ca);
	if (r < 0)
		goto out;
	if (asprintf(&localca, "%s/swtpm-localca.conf", ca) < 0 || asprintf(&opts, "%s/swtpm-localca.options", ca) < 0 ||
	    asprintf(conf, "%s/swtpm_setup.conf", ca) < 0) {
		r = error_oom();
		goto out;
	}
	if (asprintf(&text, "statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\n"
			    "certserial = %s/certserial\n", ca, ca, ca, ca) < 0) {
		r = error_oom();
		goto out;
	}
	if ((r = write_file(localca, text)) < 0 ||
	    (r = write_file(opts, "--platform-manufacturer xvm\n--platform-version 2.1\n--platform-model QEMU\n")) < 0)
		goto out;
	free(text);
	if (asprintf(&text, "create_certs_tool = swtpm_localca\ncreate_certs_tool_config = %s\n"
			    "create_certs_tool_options = %s\nactive_pcr_banks = sha256\n", localca, opts) < 0)
		r = error_oom();
	else
		r = write_file(*conf, text);
out:
	if (r < 0) {
		free(*conf);
		*conf = NULL;
	}
	free(ca);
	free(text);
	free(localca);
	free(opts);
	return r;
}

/* A new TPM 2.0's state in `dir` (existing, empty): as libvirt manufactures
 * one, with RSA and ECC endorsement keys, their certificates and a platform
 * certificate in the TPM's NVRAM, locked. */
static int manufacture(struct engine *e, const char *dir)
{
	char *conf;
	int r = setup_config(e, &conf);
	if (r < 0)
		return r;
	const char *argv[] = { "swtpm_setup", "--tpm2", "--tpmstate", dir, "--create-ek-cert",
			       "--create-platform-cert", "--lock-nvram", "--not-overwrite", "--pcr-banks", "sha256",
			       "--config", conf, NULL };
	struct run_result res = { 0 };
	r = run_tool(argv, SETUP_TIMEOUT_S, &res);
	if (r == -ENOENT)
		r = ERR1(XVM_ERR_INTERNAL_ERROR, "swtpm_setup",
			 "swtpm_setup is not installed: install swtpm-tools (and swtpm) to give VMs a TPM");
	else if (r < 0)
		r = ERR1(XVM_ERR_INTERNAL_ERROR, "swtpm_setup", "cannot run swtpm_setup: %s", strerror(-r));
	else if (res.status != 0)
		r = ERR1(XVM_ERR_INTERNAL_ERROR, "swtpm_setup", "swtpm_setup failed (status %d%s): %s", res.status,
			 res.timed_out ? ", timed out" : "", *res.err ? res.err : res.out);
	run_result_free(&res);
	free(conf);
	return r;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	ssize_t n = 0;
	if (in >= 0)
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (in < 0 || out < 0 || n < 0 || fsync(out) < 0)
		r = io_error("copy", from);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && r == 0)
		r = io_error("write", to);
	return r;
}

/* swtpm's files of `from` into `to` (its lock aside). */
static int copy_state(const char *from, const char *to)
{
	DIR *d = opendir(from);
	if (!d)
		return io_error("read the vTPM state", from);
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *src, *dst;
		if (asprintf(&src, "%s/%s", from, de->d_name) < 0)
			src = NULL;
		if (asprintf(&dst, "%s/%s", to, de->d_name) < 0)
			dst = NULL;
		r = src && dst ? copy_file(src, dst) : error_oom();
		free(src);
		free(dst);
	}
	closedir(d);
	return r;
}

/*
 * Makes the state dir of vTPM `uuid`: a copy of vTPM `from`'s, or a new TPM
 * (from NULL). Built in STATE/vtpm/.new-UUID and renamed into place: a crash
 * leaves no half-made state under a VTPM's name (and the next create sweeps
 * what it left: sweep_leftovers).
 */
static int make_state(struct engine *e, const char *uuid, const char *from)
{
	char tmpname[XVM_UUID_BUFLEN + 8];
	snprintf(tmpname, sizeof(tmpname), ".new-%s", uuid);
	char *tmp = vtpm_path(e, tmpname), *dir = vtpm_path(e, uuid), *src = from ? vtpm_path(e, from) : NULL;
	int r = tmp && dir && (!from || src) ? 0 : error_oom();
	if (r == 0 && mkdir_p(tmp) < 0)
		r = io_error("create", tmp);
	if (r == 0)
		r = from ? copy_state(src, tmp) : manufacture(e, tmp);
	if (r == 0 && rename(tmp, dir) < 0)
		r = io_error("create", dir);
	if (r < 0 && tmp)
		remove_dir(tmp);
	free(tmp);
	free(dir);
	free(src);
	return r;
}

/* What a crash left in STATE/vtpm: a .new-UUID being made, or a state renamed
 * into place whose record was never written. Only those older than any
 * create can take, so that none in the making is touched. */
#define LEFTOVER_AGE_S (2 * SETUP_TIMEOUT_S)

static bool has_record(struct engine *e, const char *uuid)
{
	char *ref = NULL;
	int r = store_begin_read(e->store);
	if (r < 0)
		return true;
	r = rec_find_one(e, &class_vtpm, "uuid", uuid, &ref);
	store_rollback(e->store);
	free(ref);
	return r < 0 || ref;
}

static void sweep_leftovers(struct engine *e)
{
	char *root = vtpm_path(e, "");
	DIR *d = root ? opendir(root) : NULL;
	struct dirent *de;
	time_t now = time(NULL);
	while (d && (de = readdir(d))) {
		const char *n = de->d_name;
		bool making = strncmp(n, ".new-", 5) == 0 && uuid_valid(n + 5);
		struct stat st;
		if ((!making && !uuid_valid(n)) || fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || now - st.st_mtime < LEFTOVER_AGE_S || (!making && has_record(e, n)))
			continue;
		char *p = vtpm_path(e, n);
		if (p) {
			log_info("removing the vTPM state %s that a crash left", p);
			remove_dir(p);
		}
		free(p);
	}
	if (d)
		closedir(d);
	free(root);
}

static void remove_state(struct engine *e, const char *uuid)
{
	char *dir = vtpm_path(e, uuid);
	if (dir)
		remove_dir(dir);
	free(dir);
}

void vtpm_remove_states(struct engine *e, struct json_object *list)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		remove_state(e, rec_str(json_object_array_get_idx(list, i), "uuid"));
}

/* The VM's VTPM references. In a transaction. */
static int vtpms_of(struct engine *e, const char *vm, struct json_object **refs)
{
	return rec_find(e, &class_vtpm, "VM", vm, refs);
}

int vtpm_count(struct engine *e, const char *vm, size_t *ret)
{
	struct json_object *refs = NULL;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = vtpms_of(e, vm, &refs)) == 0)
		*ret = json_object_array_length(refs);
	store_rollback(e->store);
	json_object_put(refs);
	return r;
}

int vtpm_create(struct engine *e, const char *vm, bool is_unique, char **ret_ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, vm, "create_vtpm", VM_OP_ALLOW_TEMPLATE, &op);
	if (r < 0)
		return r;
	/* Every install would copy one TPM (one endorsement key for them all);
	 * a built-in template asks for a TPM of each VM's own with vtpm: true. */
	if (rec_bool(op.rec, "is_default_template"))
		return vm_op_abort(&op, ERR1(XVM_ERR_VM_IS_TEMPLATE, vm,
					     "%s is a built-in template: it gets no vTPM (its YAML's vtpm: true gives "
					     "each VM it installs a TPM of its own)",
					     rec_str(op.rec, "name_label")));
	size_t have = 0;
	if ((r = vtpm_count(e, vm, &have)) < 0)
		return vm_op_abort(&op, r);
	/* The VM's operation lock keeps another create from getting in between. */
	if (have >= VTPM_MAX) {
		char max[8];
		snprintf(max, sizeof(max), "%d", VTPM_MAX);
		return vm_op_abort(&op, ERR1(XVM_ERR_VTPM_MAX_AMOUNT_REACHED, max, "VM %s has a vTPM already (at most %s)",
					     rec_str(op.rec, "name_label"), max));
	}
	char uuid[XVM_UUID_BUFLEN], ref[XVM_REF_BUFLEN];
	uuid_generate_str(uuid);
	ref_generate(ref);
	sweep_leftovers(e);
	if ((r = make_state(e, uuid, NULL)) < 0)
		return vm_op_abort(&op, r);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "VM", json_object_new_string(vm));
	json_object_object_add(o, "is_unique", json_object_new_boolean(is_unique));
	if ((r = store_begin_write(e->store)) == 0) {
		if ((r = rec_insert(e, &class_vtpm, ref, o)) == 0)
			r = store_commit(e->store);
		else
			store_rollback(e->store);
	}
	json_object_put(o);
	if (r < 0)
		remove_state(e, uuid);
	vm_op_abort(&op, r);
	if (r < 0)
		return r;
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

static const char *const record_fields[] = { "uuid", "VM", "backend", "is_unique", "is_protected", NULL };

int vtpm_destroy(struct engine *e, const char *ref)
{
	struct json_object *rec = NULL;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = rec_read_fields(e, &class_vtpm, ref, record_fields, &rec);
	store_rollback(e->store);
	if (r < 0)
		return r;
	struct vm_op op;
	char *vm = strdup(rec_str(rec, "VM"));
	if (!vm || (r = vm_op_begin(e, vm, "destroy_vtpm", VM_OP_ALLOW_TEMPLATE | VM_OP_ANY_STATE, &op)) < 0) {
		r = vm ? r : error_oom();
		goto out;
	}
	if (op.power != VM_HALTED) {
		r = vm_op_abort(&op, vm_bad_power_state(vm, rec_str(op.rec, "name_label"), "Halted",
							vm_power_name(op.power), "destroy its vTPM"));
		goto out;
	}
	if ((r = store_begin_write(e->store)) == 0) {
		if ((r = rec_delete(e, &class_vtpm, ref)) == 0)
			r = store_commit(e->store);
		else
			store_rollback(e->store);
	}
	if (r == 0)
		remove_state(e, rec_str(rec, "uuid"));
	vm_op_abort(&op, r);
out:
	free(vm);
	json_object_put(rec);
	return r;
}

int vtpm_domain_config(struct engine *e, const char *vm, struct xvm_hc_domain_config *cfg)
{
	static const char *const fields[] = { "uuid", NULL };
	struct json_object *refs = NULL, *rec = NULL;
	cfg->vtpm_dir[0] = '\0';
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = vtpms_of(e, vm, &refs)) == 0) {
		if (json_object_array_length(refs) > 0)
			r = rec_read_fields(e, &class_vtpm, json_object_get_string(json_object_array_get_idx(refs, 0)),
					    fields, &rec);
		json_object_put(refs);
	}
	store_rollback(e->store);
	if (r < 0 || !rec)
		return r;
	char *dir = vtpm_path(e, rec_str(rec, "uuid"));
	struct stat st;
	if (!dir)
		r = error_oom();
	else if (strlen(dir) >= sizeof(cfg->vtpm_dir))
		r = ERR1(XVM_ERR_INVALID_VALUE, dir, "the vTPM state dir %s is too long", dir);
	else if (stat(dir, &st) < 0)
		r = ERR2(XVM_ERR_INTERNAL_ERROR, vm, dir, "the state of VM %s's vTPM is missing (%s: %s)", vm, dir,
			 strerror(errno));
	else
		memcpy(cfg->vtpm_dir, dir, strlen(dir) + 1);
	free(dir);
	json_object_put(rec);
	return r;
}

int vtpm_copy_states(struct engine *e, const char *vm, bool same_vm, struct json_object **ret)
{
	static const char *const fields[] = { "uuid", "is_unique", NULL };
	struct json_object *refs = NULL, *out = json_object_new_array(), *sources = json_object_new_array();
	int r = store_begin_read(e->store);
	if (r == 0) {
		if ((r = vtpms_of(e, vm, &refs)) == 0)
			for (size_t i = 0; r == 0 && i < json_object_array_length(refs); i++) {
				struct json_object *rec;
				const char *ref = json_object_get_string(json_object_array_get_idx(refs, i));
				if ((r = rec_read_fields(e, &class_vtpm, ref, fields, &rec)) == 0) {
					json_object_object_add(rec, "ref", json_object_new_string(ref));
					json_object_array_add(sources, rec);
				}
			}
		store_rollback(e->store);
	}
	/* Outside any transaction: the files are copied. */
	for (size_t i = 0; r == 0 && i < json_object_array_length(sources); i++) {
		struct json_object *src = json_object_array_get_idx(sources, i);
		char uuid[XVM_UUID_BUFLEN];
		uuid_generate_str(uuid);
		bool fresh = !same_vm && rec_bool(src, "is_unique");
		if ((r = make_state(e, uuid, fresh ? NULL : rec_str(src, "uuid"))) == 0) {
			struct json_object *c = json_object_new_object();
			json_object_object_add(c, "ref", json_object_new_string(rec_str(src, "ref")));
			json_object_object_add(c, "uuid", json_object_new_string(uuid));
			json_object_array_add(out, c);
		}
	}
	json_object_put(refs);
	json_object_put(sources);
	if (r < 0) {
		vtpm_remove_states(e, out);
		json_object_put(out);
		return r;
	}
	*ret = out;
	return 0;
}

int vtpm_record_copies(struct engine *e, struct json_object *copies, const char *dst)
{
	int r = 0;
	for (size_t i = 0; r == 0 && copies && i < json_object_array_length(copies); i++) {
		struct json_object *c = json_object_array_get_idx(copies, i), *rec;
		char ref[XVM_REF_BUFLEN];
		if ((r = rec_read_fields(e, &class_vtpm, rec_str(c, "ref"), record_fields, &rec)) < 0)
			break;
		json_object_object_add(rec, "uuid", json_object_new_string(rec_str(c, "uuid")));
		json_object_object_add(rec, "VM", json_object_new_string(dst));
		ref_generate(ref);
		r = rec_insert(e, &class_vtpm, ref, rec);
		json_object_put(rec);
	}
	return r;
}

int vtpm_forget_owned(struct engine *e, const char *vm, struct json_object **gone)
{
	static const char *const fields[] = { "uuid", NULL };
	struct json_object *refs = NULL, *out = json_object_new_array();
	int r = vtpms_of(e, vm, &refs);
	for (size_t i = 0; r == 0 && i < json_object_array_length(refs); i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, i));
		struct json_object *rec;
		if ((r = rec_read_fields(e, &class_vtpm, ref, fields, &rec)) < 0)
			break;
		json_object_array_add(out, rec);
		r = rec_delete(e, &class_vtpm, ref);
	}
	json_object_put(refs);
	if (r < 0) {
		json_object_put(out);
		return r;
	}
	*gone = out;
	return 0;
}

struct json_object *vtpm_context(struct engine *e)
{
	struct json_object *by_object = NULL;
	return inflight_read(e, &by_object, NULL) == 0 ? by_object : NULL;
}

void vtpm_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec)
{
	static const char *const fields[] = { "power_state", NULL };
	struct json_object *ops = json_object_new_array(), *busy, *vm = NULL;
	(void)ref;
	/* Busy with an operation of its VM's (vTPMs have none of their own). */
	if (!(ctx && json_object_object_get_ex(ctx, rec_str(rec, "VM"), &busy)) &&
	    rec_read_fields(e, &class_vm, rec_str(rec, "VM"), fields, &vm) == 0 &&
	    strcmp(rec_str(vm, "power_state"), "Halted") == 0)
		json_object_array_add(ops, json_object_new_string("destroy"));
	json_object_put(vm);
	json_object_object_add(rec, "allowed_operations", ops);
	json_object_object_add(rec, "current_operations", json_object_new_object());
}
