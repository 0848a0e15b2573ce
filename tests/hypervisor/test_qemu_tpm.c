/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemu backend's vTPM with real QEMUs and swtpm: one swtpm per domain,
 * bound to its life (destroy, a killed QEMU, a failed start, save), the
 * TPM QEMU sees, its state carried through save and restore, and the clear
 * error of a missing swtpm. What a guest sees of the TPM is the e2e tests'.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HVT_QEMU_FIXTURE
#include "hvtest.h"
#include "qemutest.h"

TestSuite(qemu_tpm, .init = hvt_qemu_setup, .fini = hvt_qemu_teardown, .timeout = 120);

#define REQUIRE_SWTPM()                                                                                  \
	do {                                                                                             \
		REQUIRE_QEMU();                                                                          \
		if (access("/usr/bin/swtpm", X_OK) < 0)                                                  \
			cr_skip_test("swtpm is not installed");                                          \
	} while (0)

/* The test guest with a TPM whose state is in STATE/tpm (empty: swtpm makes a fresh one). */
static void tpm_guest(unsigned n)
{
	hvt_guest_config(&cfg, n, "idle");
	snprintf(cfg.vtpm_dir, sizeof cfg.vtpm_dir, "%s/tpm", dir);
	mkdir(cfg.vtpm_dir, 0700);
}

static pid_t swtpm_pid(uint32_t domid)
{
	char p[600];
	long pid = 0;
	FILE *f;

	snprintf(p, sizeof p, "%s/run/qemu/%u/swtpm.pid", dir, domid);
	f = fopen(p, "r");
	cr_assert(f, "%s is missing", p);
	cr_assert_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

/* What QEMU says of its TPM: "tpm-crb emulator" or "". */
static void qemu_tpm(uint32_t domid, char *buf, size_t size)
{
	struct json_object *l = hvt_qmp(domid, "query-tpm", NULL), *t, *v, *o;

	buf[0] = '\0';
	if (json_object_array_length(l) == 1) {
		t = json_object_array_get_idx(l, 0);
		json_object_object_get_ex(t, "model", &v);
		json_object_object_get_ex(t, "options", &o);
		json_object_object_get_ex(o, "type", &o);
		snprintf(buf, size, "%s %s", json_object_get_string(v), json_object_get_string(o));
	}
	json_object_put(l);
}

static bool gone_within(pid_t pid, double secs)
{
	double end = hvt_now_s() + secs;

	while (hvt_pid_alive(pid))
		if (hvt_now_s() > end)
			return false;
		else
			usleep(20000);
	return true;
}

/* Kills the domain's QEMU: its swtpm must go by itself; then destroy leaves nothing. */
static void kill_qemu_and_check(uint32_t domid, pid_t qemu, pid_t sw)
{
	kill(qemu, SIGKILL);
	cr_assert(gone_within(sw, 5), "swtpm outlived its killed QEMU");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	hvt_assert_gone(domid, qemu);
}

Test(qemu_tpm, one_swtpm_per_domain_gone_with_destroy)
{
	struct xvm_hc_domain_info i;
	char tpm[64];
	uint32_t domid;
	pid_t sw;

	REQUIRE_SWTPM();
	tpm_guest(1);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	i = hvt_info(hv, domid);
	cr_assert(i.vtpm);
	sw = swtpm_pid(domid);
	cr_assert(hvt_pid_alive(sw));
	qemu_tpm(domid, tpm, sizeof tpm);
	cr_assert_str_eq(tpm, "tpm-crb emulator");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert(!hvt_pid_alive(sw), "swtpm outlived its domain");
	hvt_assert_gone(domid, (pid_t)i.pid);
	/* The state stays for the next start. */
	char p[sizeof cfg.vtpm_dir + 32];
	snprintf(p, sizeof p, "%s/tpm2-00.permall", cfg.vtpm_dir);
	cr_assert_eq(access(p, F_OK), 0, "swtpm left no state in %s", cfg.vtpm_dir);
}

Test(qemu_tpm, pc_machine_gets_tis)
{
	char tpm[64];
	uint32_t domid;

	REQUIRE_SWTPM();
	tpm_guest(1);
	strcpy(cfg.machine, "pc");
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	qemu_tpm(domid, tpm, sizeof tpm);
	cr_assert_str_eq(tpm, "tpm-tis emulator");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
}

Test(qemu_tpm, a_killed_qemu_takes_its_swtpm_along)
{
	struct xvm_hc_domain_info i;
	uint32_t domid;
	pid_t sw;

	REQUIRE_SWTPM();
	tpm_guest(1);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	i = hvt_info(hv, domid);
	sw = swtpm_pid(domid);
	kill_qemu_and_check(domid, (pid_t)i.pid, sw);
}

Test(qemu_tpm, save_ends_swtpm_and_restore_starts_it_on_the_same_state)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(0) };
	struct xvm_hc_domain_restore r = { .head = XVM_HC_HEAD(0), .config = &cfg };
	struct xvm_hc_domain_info before;
	char tpm[64];
	pid_t sw;

	REQUIRE_SWTPM();
	tpm_guest(1);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &s.domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, s.domid), 0);
	before = hvt_info(hv, s.domid);
	sw = swtpm_pid(s.domid);
	snprintf(s.path, sizeof s.path, "%s/saved", dir);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s), 0, "save: %s", xvm_hv_last_error(hv));
	cr_assert(!hvt_pid_alive(sw), "swtpm outlived the saved domain");
	hvt_assert_gone(s.domid, (pid_t)before.pid);
	strcpy(r.path, s.path);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &r), 0, "restore: %s", xvm_hv_last_error(hv));
	cr_assert(hvt_pid_alive(swtpm_pid(r.domid)));
	qemu_tpm(r.domid, tpm, sizeof tpm);
	cr_assert_str_eq(tpm, "tpm-crb emulator");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, r.domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, r.domid).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, r.domid), 0);
}

Test(qemu_tpm, checkpoint_keeps_swtpm)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(XVM_HC_F_SAVE_KEEP) };
	uint32_t domid;
	pid_t sw;

	REQUIRE_SWTPM();
	tpm_guest(1);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0);
	sw = swtpm_pid(domid);
	s.domid = domid;
	snprintf(s.path, sizeof s.path, "%s/checkpoint", dir);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s), 0, "save: %s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_RUNNING);
	cr_assert(hvt_pid_alive(sw), "the checkpoint stopped swtpm");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	cr_assert(!hvt_pid_alive(sw));
}

Test(qemu_tpm, missing_swtpm_is_a_clear_error_and_nothing_runs)
{
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	pid_t pids[8];
	uint32_t domid;

	REQUIRE_QEMU();
	tpm_guest(1);
	setenv("XVM_SWTPM_BINARY", "/nonexistent/swtpm", 1);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -ENOENT);
	unsetenv("XVM_SWTPM_BINARY");
	cr_assert(strstr(xvm_hv_last_error(hv), "/nonexistent/swtpm"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 0);
	cr_assert_eq(hvt_our_processes(pids, 8), 0);
}

Test(qemu_tpm, swtpm_that_fails_fails_the_start_and_leaves_nothing)
{
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	char fake[600];
	pid_t pids[8];
	uint32_t domid;
	int r;

	REQUIRE_QEMU();
	tpm_guest(1);
	/* An swtpm that never opens its socket, as one that cannot read its state would not. */
	snprintf(fake, sizeof fake, "%s/swtpm", dir);
	hvt_write_file(fake, "#!/bin/sh\necho cannot lock the state >&2\nexit 1\n", 47, 0755);
	setenv("XVM_SWTPM_BINARY", fake, 1);
	r = hvt_qemu_create(hv, &cfg, &domid);
	unsetenv("XVM_SWTPM_BINARY");
	cr_assert_eq(r, -EIO, "%d %s", r, xvm_hv_last_error(hv));
	cr_assert(strstr(xvm_hv_last_error(hv), "swtpm"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 0);
	cr_assert_eq(hvt_our_processes(pids, 8), 0);
}

Test(qemu_tpm, bad_state_dirs_are_refused_before_anything_starts)
{
	uint32_t domid;

	REQUIRE_QEMU();
	tpm_guest(1);
	strcpy(cfg.vtpm_dir, "relative/tpm");
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -EINVAL);
	snprintf(cfg.vtpm_dir, sizeof cfg.vtpm_dir, "%s/a,b", dir);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -EINVAL);
	snprintf(cfg.vtpm_dir, sizeof cfg.vtpm_dir, "%s/none", dir);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -ENOENT);
	cr_assert(strstr(xvm_hv_last_error(hv), "vTPM state dir"), "%s", xvm_hv_last_error(hv));
}

/* Its monitor killed, the domain is re-adopted by the next open: swtpm runs on
 * with QEMU, and still goes when QEMU does (the adopting monitor stops it). */
Test(qemu_tpm, readopted_domain_keeps_and_then_ends_its_swtpm)
{
	struct xvm_hc_domain_info i;
	char tpm[64], p[600];
	uint32_t domid;
	long mon = 0;
	pid_t sw;
	FILE *f;

	REQUIRE_SWTPM();
	tpm_guest(1);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0);
	i = hvt_info(hv, domid);
	sw = swtpm_pid(domid);
	hv = xvm_hv_close(hv);
	snprintf(p, sizeof p, "%s/run/qemu/%u/monitor.pid", dir, domid);
	cr_assert((f = fopen(p, "r")) && fscanf(f, "%ld", &mon) == 1);
	fclose(f);
	cr_assert_eq(kill((pid_t)mon, SIGKILL), 0);
	cr_assert(gone_within((pid_t)mon, 2));
	cr_assert(hvt_pid_alive(sw), "swtpm died with the monitor, under a running guest");
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_RUNNING);
	qemu_tpm(domid, tpm, sizeof tpm);
	cr_assert_str_eq(tpm, "tpm-crb emulator");
	kill_qemu_and_check(domid, (pid_t)i.pid, sw);
}

/* QEMU fails at start after swtpm came up: swtpm goes too. */
Test(qemu_tpm, qemu_failing_at_start_leaves_no_swtpm)
{
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	pid_t pids[8];
	uint32_t domid;
	int r;

	REQUIRE_SWTPM();
	tpm_guest(1);
	setenv("XVM_QEMU_BINARY", "/bin/false", 1);
	r = hvt_qemu_create(hv, &cfg, &domid);
	unsetenv("XVM_QEMU_BINARY");
	cr_assert_eq(r, -EIO, "%d %s", r, xvm_hv_last_error(hv));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 0);
	cr_assert_eq(hvt_our_processes(pids, 8), 0, "left: %d", (int)pids[0]);
}
