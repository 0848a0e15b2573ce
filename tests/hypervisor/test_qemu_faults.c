/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemu backend with real QEMUs (TCG), when things go wrong: re-adoption
 * by a later open, a dead monitor, a killed QEMU, missing files, QEMU failing
 * at start-up, a silent or garbled QMP socket and racing creates. The guest
 * and the fixture are in qemutest.c. Skipped only if qemu-system-x86_64 is
 * absent.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HVT_QEMU_FIXTURE
#include "hvtest.h"
#include "qemu/qmp.h"
#include "qemutest.h"

TestSuite(qemu, .init = hvt_qemu_setup, .fini = hvt_qemu_teardown, .timeout = 120);


Test(qemu, readopted_by_a_later_open)
{
	struct xvm_hc_domain_info before, after;
	uint32_t domid;

	REQUIRE_QEMU();
	domid = hvt_start_guest(hv, 1, "idle");
	before = hvt_info(hv, domid);
	hv = xvm_hv_close(hv);
	cr_assert(hvt_pid_alive((pid_t)before.pid), "QEMU died with the handle");
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	after = hvt_info(hv, domid);
	cr_assert_eq(after.state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(after.pid, before.pid);
	cr_assert_eq(after.start_time, before.start_time);
	struct xvm_hc_domain_info byuuid = { .head = XVM_HC_HEAD(XVM_HC_F_INFO_BY_UUID) };
	strcpy(byuuid.uuid, cfg.uuid);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &byuuid), 0);
	cr_assert_eq(byuuid.domid, domid);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	hvt_assert_gone(domid, (pid_t)before.pid);
}

static pid_t pid_file(uint32_t domid, const char *name)
{
	char p[600];
	long long pid = 0;
	FILE *f;

	snprintf(p, sizeof p, "%s/run/qemu/%u/%s", dir, domid, name);
	f = fopen(p, "r");
	cr_assert(f, "%s", p);
	cr_assert_eq(fscanf(f, "%lld", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

/* The monitor died: the next open starts another, which then sees QEMU die. */
Test(qemu, a_dead_monitor_is_replaced)
{
	struct xvm_hc_guest_action g = { .head = XVM_HC_HEAD(0), .action = XVM_HC_SHUTDOWN_CRASH };
	uint32_t ids[4], n;
	uint64_t seq = 0;
	pid_t mon;

	REQUIRE_QEMU();
	g.domid = hvt_start_guest(hv, 1, "idle");
	hv = xvm_hv_close(hv);
	mon = pid_file(g.domid, "monitor.pid");
	cr_assert_eq(kill(mon, SIGKILL), 0);
	for (int i = 0; i < 100 && hvt_pid_alive(mon); i++)
		usleep(10000);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	/* The new monitor writes its pid file a moment after it starts. */
	for (int i = 0; i < 200 && pid_file(g.domid, "monitor.pid") == mon; i++)
		usleep(10000);
	cr_assert_neq(pid_file(g.domid, "monitor.pid"), mon);
	cr_assert(hvt_pid_alive(pid_file(g.domid, "monitor.pid")));
	cr_assert_eq(hvt_info(hv, g.domid).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(hvt_qemu_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_GUEST_ACTION, &g), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_qemu_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(n, 1, "the adopted QEMU's death was not reported");
	cr_assert_eq(hvt_info(hv, g.domid).shutdown_reason, XVM_HC_SHUTDOWN_CRASH);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, g.domid), 0);
}

Test(qemu, killed_qemu_is_a_crash_seen_by_another_handle)
{
	struct xvm_hv *other;
	struct xvm_hc_domain_info i;
	uint32_t ids[4], n = 0, domid;
	uint64_t seq = 0;
	double end;

	REQUIRE_QEMU();
	domid = hvt_start_guest(hv, 1, "idle");
	i = hvt_info(hv, domid);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &other), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(hvt_qemu_event_poll(other, &seq, ids, 4, &n), 0);
	cr_assert_eq(kill((pid_t)i.pid, SIGKILL), 0);
	for (end = hvt_now_s() + 10; hvt_now_s() < end; usleep(20000)) {
		cr_assert_eq(hvt_qemu_event_poll(other, &seq, ids, 4, &n), 0);
		if (n)
			break;
	}
	cr_assert_eq(n, 1, "the death was not reported");
	cr_assert_eq(ids[0], domid);
	i = hvt_info(other, domid);
	cr_assert_eq(i.state, XVM_HC_STATE_SHUTDOWN);
	cr_assert_eq(i.shutdown_reason, XVM_HC_SHUTDOWN_CRASH);
	cr_assert_eq(hvt_dom(other, XVM_HC_DOMAIN_DESTROY, domid), 0);
	xvm_hv_close(other);
	hvt_assert_gone(domid, (pid_t)i.pid);
}


Test(qemu, missing_files)
{
	uint32_t domid;

	REQUIRE_QEMU();
	hvt_guest_config(&cfg, 1, "idle");
	strcpy(cfg.kernel, "/nonexistent/vmlinuz");
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -ENOENT);
	cr_assert(strstr(xvm_hv_last_error(hv), "/nonexistent/vmlinuz"));
	hvt_guest_config(&cfg, 1, "idle");
	setenv("XVM_QEMU_BINARY", "/nonexistent/qemu", 1);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -ENOENT);
	cr_assert(strstr(xvm_hv_last_error(hv), "/nonexistent/qemu"), "%s", xvm_hv_last_error(hv));
	unsetenv("XVM_QEMU_BINARY");
	if (access("/usr/share/OVMF/OVMF_CODE.fd", F_OK) < 0 && access("/usr/share/OVMF/OVMF_CODE_4M.fd", F_OK) < 0) {
		cfg.boot = XVM_HC_BOOT_HVM;
		strcpy(cfg.firmware, "uefi");
		cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -ENOENT);
		cr_assert(strstr(xvm_hv_last_error(hv), "ovmf"), "%s", xvm_hv_last_error(hv));
	}
}

Test(qemu, qemu_failing_at_startup_is_reported_with_its_stderr)
{
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	uint32_t domid;
	pid_t pids[8];
	int r;

	REQUIRE_QEMU();
	hvt_guest_config(&cfg, 1, "idle");
	snprintf(cfg.kernel, sizeof cfg.kernel, "%s/corrupt-kernel", dir);
	hvt_write_file(cfg.kernel, "this is not a kernel at all", 27, 0644);
	r = hvt_qemu_create(hv, &cfg, &domid);
	cr_assert_eq(r, -EIO, "%d %s", r, xvm_hv_last_error(hv));
	cr_log_info("start-up failure: %s", xvm_hv_last_error(hv));
	cr_assert(strstr(xvm_hv_last_error(hv), "invalid kernel header"), "no stderr in: %s", xvm_hv_last_error(hv));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 0);
	cr_assert_eq(hvt_our_processes(pids, 8), 0);
}

/* A "QEMU" that opens its QMP socket and never says a word. */
static const char silent_qemu[] =
	"#!/bin/sh\n"
	"exec python3 -c '\n"
	"import socket, sys, time\n"
	"path = [a.split(\"path=\")[1].split(\",\")[0] for a in sys.argv[1:] if \"id=qmp,\" in a][0]\n"
	"s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(4)\n"
	"conns = []\n"
	"while True: conns.append(s.accept())\n"
	"' \"$@\"\n";

Test(qemu, silent_qmp_times_out)
{
	char fake[600];
	uint32_t domid;
	pid_t pids[8];
	double t0;
	int r;

	REQUIRE_QEMU();
	snprintf(fake, sizeof fake, "%s/silent-qemu", dir);
	hvt_write_file(fake, silent_qemu, sizeof silent_qemu - 1, 0755);
	setenv("XVM_QEMU_BINARY", fake, 1);
	hvt_guest_config(&cfg, 1, "idle");
	t0 = hvt_now_s();
	r = hvt_qemu_create(hv, &cfg, &domid);
	unsetenv("XVM_QEMU_BINARY");
	cr_assert_eq(r, -ETIMEDOUT, "%d %s", r, xvm_hv_last_error(hv));
	cr_assert_lt(hvt_now_s() - t0, 15, "took %.1f s", hvt_now_s() - t0);
	cr_assert(strstr(xvm_hv_last_error(hv), "QMP"), "%s", xvm_hv_last_error(hv));
	cr_log_info("silent QMP: %s after %.1f s", xvm_hv_last_error(hv), hvt_now_s() - t0);
	cr_assert_eq(hvt_our_processes(pids, 8), 0, "the fake QEMU (pid %d) is left", (int)pids[0]);
}

Test(qemu, qmp_client_refuses_silence_and_garbage)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	struct qmp *q;
	double t0;
	int s, c;

	snprintf(su.sun_path, sizeof su.sun_path, "%s/fake.sock", dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&su, sizeof su), 0);
	cr_assert_eq(listen(s, 4), 0);
	t0 = hvt_now_s();
	cr_assert_eq(qmp_connect(su.sun_path, 1000, &q), -ETIMEDOUT);
	cr_assert(hvt_now_s() - t0 < 3);
	c = accept(s, NULL, NULL);
	close(c);
	if (fork() == 0) {
		c = accept(s, NULL, NULL);
		(void)!write(c, "this is not JSON\r\n", 18);
		sleep(2);
		_exit(0);
	}
	cr_assert_eq(qmp_connect(su.sun_path, 1000, &q), -EPROTO);
	wait(NULL);
	close(s);
}

Test(qemu, concurrent_creates_of_one_uuid)
{
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	struct xvm_hc_domain_info one;
	int ok = 0, exists = 0, status;
	pid_t kids[2];

	REQUIRE_QEMU();
	hvt_guest_config(&cfg, 7, "idle");
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			struct xvm_hv *h;
			uint32_t domid;
			int r;
			if (xvm_hv_open("qemu", dir, 0, &h) < 0)
				_exit(3);
			r = hvt_qemu_create(h, &cfg, &domid);
			_exit(r == 0 ? 0 : r == -EEXIST ? 1 : 2);
		}
	}
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
		ok += WEXITSTATUS(status) == 0;
		exists += WEXITSTATUS(status) == 1;
	}
	cr_assert_eq(ok, 1);
	cr_assert_eq(exists, 1);
	l.capacity = 1;
	l.domains = &one;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 1);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, one.domid), 0);
	hvt_assert_gone(one.domid, (pid_t)one.pid);
}

