/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vTPMs on sim:///DIR: VTPM.create and destroy and their refusals, the state
 * swtpm_setup makes, the dir a start hands the hypervisor, and what VM
 * destroy, clone, snapshot, revert, export to template and install do with
 * the state. The TPM a real guest sees is the e2e tests'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "hypercall.h"

static char *dir, *vm;
static xvm_conn *conn;

static void setup(void)
{
	dir = t_tmpdir();
	conn = t_connect(dir);
	vm = t_install(conn, "vm1");
}

static void teardown(void)
{
	free(vm);
	xvm_disconnect(conn);
	t_rmdir(dir);
}

TestSuite(vtpm, .init = setup, .fini = teardown, .timeout = 120);

static char *create(const char *ref, bool unique)
{
	char *t = NULL;
	T_OK(xvm_vtpm_create(conn, ref, unique, &t));
	return t;
}

/* The state file of vTPM ref (static per call site: free()). */
static char *state_file(const char *vtpm)
{
	char *p;
	cr_assert(asprintf(&p, "%s/vtpm/%s/tpm2-00.permall", dir, t_gets(conn, "VTPM", vtpm, "uuid")) > 0);
	return p;
}

static char *state_of(const char *vtpm, size_t *len)
{
	char *p = state_file(vtpm), *s = t_read_file(p, len);
	cr_assert_not_null(s, "%s is missing", p);
	free(p);
	return s;
}

static bool same_state(const char *a, const char *b)
{
	size_t la, lb;
	char *x = state_of(a, &la), *y = state_of(b, &lb);
	bool same = la == lb && memcmp(x, y, la) == 0;
	free(x);
	free(y);
	return same;
}

/* The VM's one vTPM (free()); NULL when it has none. */
static char *vtpm_of(const char *ref)
{
	struct json_object *l = t_get(conn, "VM", ref, "VTPMs");
	cr_assert_leq(t_len(l), 1);
	char *t = t_len(l) ? strdup(t_first(l)) : NULL;
	json_object_put(l);
	return t;
}

static bool dir_exists(const char *uuid)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/vtpm/%s", dir, uuid);
	return access(p, F_OK) == 0;
}

Test(vtpm, create_makes_a_manufactured_tpm_and_destroy_removes_it)
{
	char *t = create(vm, false), *again = NULL;
	cr_assert_str_eq(t_gets(conn, "VTPM", t, "VM"), vm);
	cr_assert_str_eq(t_gets(conn, "VTPM", t, "persistence_backend"), "xapi");
	cr_assert_str_eq(t_gets(conn, "VTPM", t, "backend"), "OpaqueRef:NULL");
	cr_assert(!t_getb(conn, "VTPM", t, "is_unique"));
	struct json_object *ops = t_get(conn, "VTPM", t, "allowed_operations");
	cr_assert(t_has(ops, "destroy"));
	json_object_put(ops);
	char *mine = vtpm_of(vm);
	cr_assert_str_eq(mine, t);
	/* swtpm_setup's work: endorsement keys and certificates make a state of several KiB. */
	size_t len;
	free(state_of(t, &len));
	cr_assert_gt(len, 4096);
	T_ERR(xvm_vtpm_create(conn, vm, false, &again), XVM_ERR_VTPM_MAX_AMOUNT_REACHED, 1, "1");
	cr_assert_null(again);
	char uuid[64];
	snprintf(uuid, sizeof(uuid), "%s", t_gets(conn, "VTPM", t, "uuid"));
	T_OK(xvm_vtpm_destroy(conn, t));
	cr_assert(!dir_exists(uuid));
	cr_assert_null(vtpm_of(vm));
	T_ERR(xvm_vtpm_destroy(conn, t), XVM_ERR_HANDLE_INVALID, 2, "VTPM", t);
	free(t);
	free(mine);
}

Test(vtpm, refused_unless_the_vm_is_halted)
{
	char *t = NULL;
	T_ERR(xvm_vtpm_create(conn, "OpaqueRef:nonexistent", false, &t), XVM_ERR_HANDLE_INVALID, 2, "VM",
	      "OpaqueRef:nonexistent");
	T_OK(xvm_vm_start(conn, vm, 0));
	T_BAD_POWER(xvm_vtpm_create(conn, vm, false, &t), vm, "Halted", "Running");
	cr_assert_null(t);
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	t = create(vm, false);
	T_OK(xvm_vm_start(conn, vm, 0));
	struct json_object *ops = t_get(conn, "VTPM", t, "allowed_operations");
	cr_assert(!t_has(ops, "destroy"));
	json_object_put(ops);
	T_BAD_POWER(xvm_vtpm_destroy(conn, t), vm, "Halted", "Running");
	cr_assert_str_eq(t_gets(conn, "VTPM", t, "VM"), vm);
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	free(t);
}

/* What the hypervisor was given: the sim reports a domain's TPM. */
static bool domain_has_tpm(const char *ref)
{
	struct xvm_hv *hv;
	struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(XVM_HC_F_INFO_BY_UUID) };
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	snprintf(i.uuid, sizeof(i.uuid), "%s", t_gets(conn, "VM", ref, "uuid"));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), 0, "%s", xvm_hv_last_error(hv));
	xvm_hv_close(hv);
	return i.vtpm;
}

Test(vtpm, start_and_resume_give_the_domain_its_tpm)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	cr_assert(!domain_has_tpm(vm));
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	char *t = create(vm, false);
	T_OK(xvm_vm_start(conn, vm, 0));
	cr_assert(domain_has_tpm(vm));
	T_OK(xvm_vm_suspend(conn, vm));
	T_OK(xvm_vm_resume(conn, vm, 0));
	cr_assert(domain_has_tpm(vm));
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	/* A state gone from under the VM stops the start, clearly. */
	char *p = state_file(t), *d = strdup(p), gone[600];
	*strrchr(d, '/') = '\0';
	snprintf(gone, sizeof(gone), "%s.gone", d);
	cr_assert_eq(rename(d, gone), 0);
	cr_assert_lt(xvm_vm_start(conn, vm, 0), 0);
	cr_assert(strstr(t_errmsg(), "vTPM"), "%s", t_errmsg());
	cr_assert_str_eq(t_power(conn, vm), "Halted");
	free(p);
	free(d);
	free(t);
}

Test(vtpm, destroy_and_uninstall_remove_the_state)
{
	char *t = create(vm, false), uuid[64];
	snprintf(uuid, sizeof(uuid), "%s", t_gets(conn, "VTPM", t, "uuid"));
	T_OK(xvm_vm_destroy(conn, vm));
	cr_assert(!dir_exists(uuid));
	struct json_object *all = t_all_refs(conn, "VTPM");
	cr_assert_eq(t_len(all), 0);
	json_object_put(all);
	free(vm);
	vm = t_install(conn, "vm2");
	free(t);
	t = create(vm, false);
	snprintf(uuid, sizeof(uuid), "%s", t_gets(conn, "VTPM", t, "uuid"));
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_uninstall(conn, vm));
	cr_assert(!dir_exists(uuid));
	free(t);
	free(vm);
	vm = t_install(conn, "vm3");
}

Test(vtpm, clone_and_copy_copy_the_state_a_unique_one_is_new)
{
	char *t = create(vm, false), *c = NULL, *k = NULL;
	T_OK(xvm_vm_clone(conn, vm, "clone", &c));
	char *ct = vtpm_of(c);
	cr_assert_not_null(ct);
	cr_assert_str_neq(t_gets(conn, "VTPM", ct, "uuid"), t_gets(conn, "VTPM", t, "uuid"));
	cr_assert(same_state(t, ct), "the clone's TPM is not a copy");
	T_OK(xvm_vm_copy(conn, vm, "copy", NULL, &k));
	char *kt = vtpm_of(k);
	cr_assert(same_state(t, kt));
	/* is_unique: a clone gets a TPM of its own (new seeds: another state). */
	char *u = t_install(conn, "unique"), *uc = NULL;
	char *ut = create(u, true);
	T_OK(xvm_vm_clone(conn, u, "unique clone", &uc));
	char *uct = vtpm_of(uc);
	cr_assert_not_null(uct);
	cr_assert(t_getb(conn, "VTPM", uct, "is_unique"));
	cr_assert(!same_state(ut, uct), "a unique vTPM's contents were copied");
	free(t), free(c), free(k), free(ct), free(kt), free(u), free(uc), free(ut), free(uct);
}

Test(vtpm, snapshot_holds_the_state_and_revert_restores_it)
{
	char *t = create(vm, true), *snap = NULL;
	size_t len;
	char *before = state_of(t, &len);
	T_OK(xvm_vm_snapshot(conn, vm, "before", &snap));
	char *st = vtpm_of(snap);
	cr_assert(same_state(t, st), "a snapshot of a unique vTPM holds its very contents");
	/* The TPM changes after the snapshot. */
	char *p = state_file(t), *old_dir = strdup(p);
	*strrchr(old_dir, '/') = '\0';
	t_write_file(p, "changed since");
	T_OK(xvm_vm_revert(conn, snap));
	char *now = vtpm_of(vm);
	cr_assert_not_null(now);
	size_t nlen;
	char *after = state_of(now, &nlen);
	cr_assert(nlen == len && memcmp(after, before, len) == 0, "revert did not bring the TPM's state back");
	cr_assert(access(old_dir, F_OK) < 0, "the state the revert replaced is left in %s", old_dir);
	cr_assert(same_state(now, st), "the snapshot's state changed");
	/* A template from the snapshot, and a VM from it, each with a copy. */
	char *tmpl = NULL, *inst = NULL;
	T_OK(xvm_vm_snapshot_export_to_template(conn, snap, "from snapshot", &tmpl));
	char *tt = vtpm_of(tmpl);
	cr_assert_not_null(tt);
	T_OK(xvm_vm_install(conn, "from snapshot", "installed", 0, &inst));
	char *it = vtpm_of(inst);
	cr_assert_not_null(it);
	cr_assert_str_neq(t_gets(conn, "VTPM", it, "uuid"), t_gets(conn, "VTPM", tt, "uuid"));
	free(t), free(snap), free(before), free(st), free(p), free(old_dir), free(now), free(after);
	free(tmpl), free(inst), free(tt), free(it);
}

Test(vtpm, windows_11_template_installs_a_vm_with_a_vtpm)
{
	char *w = NULL;
	T_OK(xvm_vm_install(conn, "Windows 11", "w11", 0, &w));
	char *t = vtpm_of(w);
	cr_assert_not_null(t, "the Windows 11 VM has no vTPM");
	struct json_object *oc = t_get(conn, "VM", w, "other_config");
	cr_assert(!json_object_object_get_ex(oc, "vtpm", NULL), "the request is not used up: %s",
		  json_object_to_json_string(oc));
	json_object_put(oc);
	/* The template itself has none: each VM gets a TPM of its own. */
	struct json_object *tmpls = NULL;
	T_OK(xvm_object_get_by_name_label(conn, "VM", "Windows 11", &tmpls));
	char *tt = vtpm_of(t_first(tmpls));
	cr_assert_null(tt);
	/* Nor can it be given one: every install would copy that one TPM. */
	T_ERR(xvm_vtpm_create(conn, t_first(tmpls), false, &tt), XVM_ERR_VM_IS_TEMPLATE, 1, t_first(tmpls));
	cr_assert_null(tt);
	/* XenAPI's other way, VM.clone of the template then VM.provision, ends the same. */
	char *c = NULL, args[128];
	T_OK(xvm_vm_clone(conn, t_first(tmpls), "w11-clone", &c));
	cr_assert_null(vtpm_of(c), "a clone of a template with no vTPM has one before its provision");
	snprintf(args, sizeof(args), "[\"%s\"]", c);
	struct json_object *res = NULL;
	T_OK(t_call(conn, "VM.provision", args, &res));
	char *ct = vtpm_of(c);
	cr_assert_not_null(ct, "VM.provision gave the clone no vTPM");
	oc = t_get(conn, "VM", c, "other_config");
	cr_assert(!json_object_object_get_ex(oc, "vtpm", NULL), "the request is not used up");
	json_object_put(oc);
	T_OK(t_call(conn, "VM.provision", args, &res));
	struct json_object *vtpms = t_get(conn, "VM", c, "VTPMs");
	size_t n = t_len(vtpms);
	json_object_put(vtpms);
	cr_assert_eq(n, 1, "a second provision made another vTPM");
	json_object_put(tmpls);
	free(c);
	free(ct);
	free(w);
	free(t);
}

/* A dir of STATE/vtpm, made with an mtime `age` seconds ago. */
static void state_dir_aged(const char *name, time_t age)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/vtpm/%s", dir, name);
	cr_assert_eq(mkdir(p, 0700), 0, "%s: %s", p, strerror(errno));
	struct timespec t[2] = { { .tv_sec = time(NULL) - age }, { .tv_sec = time(NULL) - age } };
	cr_assert_eq(utimensat(AT_FDCWD, p, t, 0), 0);
}

Test(vtpm, a_create_sweeps_what_a_crash_left)
{
	char *kept = create(vm, false);
	const char *kept_uuid = t_gets(conn, "VTPM", kept, "uuid");
	char real[64];
	snprintf(real, sizeof(real), "%s", kept_uuid);
	/* The real state, aged like the leftovers: it has a record and stays. */
	char p[512];
	snprintf(p, sizeof(p), "%s/vtpm/%s", dir, real);
	struct timespec old[2] = { { .tv_sec = time(NULL) - 3600 }, { .tv_sec = time(NULL) - 3600 } };
	cr_assert_eq(utimensat(AT_FDCWD, p, old, 0), 0);
	state_dir_aged(".new-11111111-1111-4111-8111-111111111111", 3600);   /* a create that crashed */
	state_dir_aged("22222222-2222-4222-8222-222222222222", 3600);        /* renamed, never recorded */
	state_dir_aged(".new-33333333-3333-4333-8333-333333333333", 5);      /* another create, at work */
	char *v2 = NULL;
	T_OK(xvm_vm_install(conn, "sim test", "second", 0, &v2));
	char *second = create(v2, false);
	cr_assert_not(dir_exists(".new-11111111-1111-4111-8111-111111111111"), "a crashed create's dir stayed");
	cr_assert_not(dir_exists("22222222-2222-4222-8222-222222222222"), "a state with no record stayed");
	cr_assert(dir_exists(".new-33333333-3333-4333-8333-333333333333"), "a create at work lost its dir");
	cr_assert(dir_exists(real), "a vTPM's own state went");
	free(second);
	free(v2);
	free(kept);
}
