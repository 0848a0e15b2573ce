/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend: host facts, config checks, the domain state machine,
 * guest actions and events (across handles and processes), persistence
 * across a reopen, memory accounting, LIST and devices.
 * Save/restore, corrupt files, growth and concurrent use: test_sim_save.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HVT_SIM_FIXTURE
#include "hvtest.h"

TestSuite(sim, .init = hvt_sim_setup, .fini = hvt_sim_teardown);

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

static int event_fd(struct xvm_hv *h)
{
	struct xvm_hc_event_fd a = { .head = XVM_HC_HEAD(0), .fd = -1 };

	cr_assert_eq(xvm_hypercall(h, XVM_HC_EVENT_FD, &a), 0, "%s", xvm_hv_last_error(h));
	return a.fd;
}

Test(sim, host_info_is_the_real_host)
{
	struct xvm_hc_host_info i = hvt_host_info(hv);
	char name[256] = "";
	uint64_t total = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof line, f))
		sscanf(line, "MemTotal: %" SCNu64 " kB", &total);
	fclose(f);
	gethostname(name, sizeof name - 1);
	cr_assert_str_eq(i.backend, "sim");
	cr_assert_str_eq(i.hostname, name);
	cr_assert_eq(i.cpu_count, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
	cr_assert_eq(i.memory_total_kib, total);
	cr_assert_eq(i.memory_free_kib, total);
	cr_assert_eq(i.accel, XVM_HC_ACCEL_NONE);
	cr_assert(i.hvm_capable && i.pv_capable);
	cr_assert_eq(i.max_vcpus_per_domain, 64);
	cr_assert_str_eq(i.cpu_model, "sim");
	hvt_create(hv, 1);
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, total - 65536);
}

Test(sim, create_checks_the_config)
{
	struct { void (*mangle)(struct xvm_hc_domain_config *); int err; } cases[] = {
		{ ({ void f(struct xvm_hc_domain_config *c) { c->uuid[8] = 'x'; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->uuid[35] = 'g'; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->vcpus_online = 0; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->vcpus_online = 3; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->vcpus_max = 65; c->vcpus_online = 1; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->memory_target_kib = c->memory_static_max_kib + 1; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->memory_static_max_kib = 0; c->memory_target_kib = 0; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->boot = XVM_HC_BOOT_DIRECT_KERNEL; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->boot = XVM_HC_BOOT_DIRECT_KERNEL; strcpy(c->kernel, "/nonexistent/vmlinuz"); } f; }), -ENOENT },
		{ ({ void f(struct xvm_hc_domain_config *c) { strcpy(c->ramdisk, "/nonexistent/initrd"); } f; }), -ENOENT },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->disks[1].position = 0; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->disks[0].path[0] = '\0'; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->ndisks = XVM_HC_MAX_DISKS + 1; } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { strcpy(c->nics[0].mac, "02:00:zz:00:00:01"); } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { strcpy(c->firmware, "coreboot"); } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { strcpy(c->boot_order, "dz"); } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { memset(c->name, 'a', sizeof c->name); } f; }), -EINVAL },
		{ ({ void f(struct xvm_hc_domain_config *c) { c->vcpu_affinity[0] = 1ull << 63; } f; }), -EINVAL },
	};
	struct xvm_hc_domain_create a = { .head = XVM_HC_HEAD(0), .config = NULL };

	if (sysconf(_SC_NPROCESSORS_ONLN) >= 64)
		cases[sizeof cases / sizeof cases[0] - 1].err = 0;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		hvt_config(&cfg, 100 + k, 4096);
		cases[k].mangle(&cfg);
		int r = hvt_create_cfg(hv, &cfg, NULL);
		cr_assert_eq(r, cases[k].err, "case %zu: %d (%s)", k, r, xvm_hv_last_error(hv));
		cr_assert(r == 0 || *xvm_hv_last_error(hv), "case %zu: no detail", k);
	}
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_CREATE, &a), -EFAULT);
	cr_assert_eq(hvt_list_count(hv), 0);
}

Test(sim, create_direct_kernel_and_duplicate_uuid)
{
	char kernel[512];
	uint32_t d;

	snprintf(kernel, sizeof kernel, "%s/vmlinuz", dir);
	close(open(kernel, O_CREAT | O_WRONLY, 0600));
	hvt_config(&cfg, 1, 4096);
	cfg.boot = XVM_HC_BOOT_DIRECT_KERNEL;
	strcpy(cfg.kernel, kernel);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(d, 1);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, NULL), -EEXIST);
	cr_assert(strstr(xvm_hv_last_error(hv), cfg.uuid), "%s", xvm_hv_last_error(hv));
	/* Case does not make a uuid different. */
	for (char *p = cfg.uuid; *p; p++)
		*p = *p >= 'a' && *p <= 'f' ? *p - 32 : *p;
	cr_assert_eq(hvt_create_cfg(hv, &cfg, NULL), -EEXIST);
	/* Even a shut down domain holds its uuid until destroyed. */
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	cr_assert_eq(hvt_guest_action(hv, d, XVM_HC_SHUTDOWN_POWEROFF), 0);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, NULL), -EEXIST);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	cr_assert_eq(d, 2, "domids are never reused");
}

Test(sim, new_domain_reports_its_config)
{
	uint32_t d;

	hvt_config(&cfg, 7, 8192);
	cfg.memory_target_kib = 6144;
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	struct xvm_hc_domain_info i = hvt_info(hv, d);
	cr_assert_str_eq(i.uuid, cfg.uuid);
	cr_assert_eq(i.state, XVM_HC_STATE_PAUSED);
	cr_assert_eq(i.vcpus_max, 2);
	cr_assert_eq(i.vcpus_online, 1);
	cr_assert_eq(i.memory_static_max_kib, 8192);
	cr_assert_eq(i.memory_target_kib, 6144);
	cr_assert_eq(i.memory_actual_kib, 6144);
	cr_assert_eq(i.cpu_time_ns, 0, "a paused domain has not run");
	cr_assert(i.start_time >= (uint64_t)time(NULL) - 5 && i.start_time <= (uint64_t)time(NULL));
	cr_assert_eq(i.pid, 0);
}

Test(sim, get_info_by_uuid)
{
	uint32_t d;

	hvt_config(&cfg, 9, 8192);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &d), 0);
	struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(XVM_HC_F_INFO_BY_UUID) };
	memcpy(i.uuid, cfg.uuid, sizeof(i.uuid));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), 0);
	cr_assert_eq(i.domid, d, "the domain found by uuid reports its domid");
	cr_assert_eq(i.state, XVM_HC_STATE_PAUSED);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
	i = (struct xvm_hc_domain_info){ .head = XVM_HC_HEAD(XVM_HC_F_INFO_BY_UUID) };
	memcpy(i.uuid, cfg.uuid, sizeof(i.uuid));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), -ESRCH);
	i = (struct xvm_hc_domain_info){ .head = XVM_HC_HEAD(XVM_HC_F_INFO_BY_UUID << 4) };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), -EINVAL, "unknown flags are refused");
}

Test(sim, state_machine)
{
	uint32_t d = hvt_create(hv, 1);
	struct xvm_hc_domain_memory m = { .head = XVM_HC_HEAD(0), .domid = d, .target_kib = 1024 };

	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, d), 0, "pausing a paused domain is a no-op");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	cr_assert_eq(hvt_info(hv, d).state, XVM_HC_STATE_RUNNING);
	usleep(2000);
	cr_assert_gt(hvt_info(hv, d).cpu_time_ns, 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, d), 0);
	struct xvm_hc_domain_info p1 = hvt_info(hv, d);
	cr_assert_eq(p1.state, XVM_HC_STATE_PAUSED);
	usleep(2000);
	cr_assert_eq(hvt_info(hv, d).cpu_time_ns, p1.cpu_time_ns, "no CPU time while paused");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	cr_assert_eq(hvt_shutdown_req(hv, d, XVM_HC_SHUTDOWN_POWEROFF), 0);
	struct xvm_hc_domain_info s = hvt_info(hv, d);
	cr_assert_eq(s.state, XVM_HC_STATE_SHUTDOWN);
	cr_assert_eq(s.shutdown_reason, XVM_HC_SHUTDOWN_POWEROFF);

	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), -EINVAL);
	cr_assert(strstr(xvm_hv_last_error(hv), "shut down"), "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, d), -EINVAL);
	cr_assert_eq(hvt_shutdown_req(hv, d, XVM_HC_SHUTDOWN_REBOOT), -EINVAL);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m), -EINVAL);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), 0);
	struct xvm_hc_domain_info gone = { .head = XVM_HC_HEAD(0), .domid = d, .vcpus_max = 99 };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &gone), -ESRCH);
	cr_assert_eq(gone.vcpus_max, 99, "outputs untouched on failure");
	char want[64];
	snprintf(want, sizeof want, "domain %u does not exist", d);
	cr_assert_str_eq(xvm_hv_last_error(hv), want);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d), -ESRCH);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, 0), -ESRCH);
}

Test(sim, destroy_works_in_every_state)
{
	uint32_t a = hvt_create(hv, 1), b = hvt_create(hv, 2), c = hvt_create(hv, 3);

	hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, b);
	hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, c);
	hvt_guest_action(hv, c, XVM_HC_SHUTDOWN_CRASH);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, a), 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, b), 0);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, c), 0);
	cr_assert_eq(hvt_list_count(hv), 0);
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, hvt_host_info(hv).memory_total_kib);
}

Test(sim, shutdown_request_to_a_paused_guest_waits_for_unpause)
{
	uint32_t d = hvt_create(hv, 1), n;
	uint64_t seq = 0;
	uint32_t ids[4];

	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(hvt_shutdown_req(hv, d, XVM_HC_SHUTDOWN_CRASH), -EINVAL);
	cr_assert_eq(hvt_shutdown_req(hv, d, XVM_HC_SHUTDOWN_REBOOT), 0);
	cr_assert_eq(hvt_info(hv, d).state, XVM_HC_STATE_PAUSED);
	uint64_t s2 = seq;
	cr_assert_eq(hvt_event_poll(hv, &s2, ids, 4, &n), 0);
	cr_assert_eq(n, 0, "nothing happened yet");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d), 0);
	struct xvm_hc_domain_info i = hvt_info(hv, d);
	cr_assert_eq(i.state, XVM_HC_STATE_SHUTDOWN);
	cr_assert_eq(i.shutdown_reason, XVM_HC_SHUTDOWN_REBOOT);
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ids[0], d);
}

Test(sim, guest_actions_seen_by_another_handle)
{
	struct xvm_hv *other;
	uint32_t d[3], ids[8], n;
	uint64_t seq = 0;
	int fd = event_fd(hv);

	cr_assert_eq(xvm_hv_open("sim", dir, 0, &other), 0);
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 8, &n), 0);
	for (int k = 0; k < 3; k++) {
		d[k] = hvt_create(other, k + 1);
		cr_assert_eq(hvt_dom(other, XVM_HC_DOMAIN_UNPAUSE, d[k]), 0);
	}
	/* Changes callers make themselves are not events. */
	hvt_dom(other, XVM_HC_DOMAIN_PAUSE, d[1]);
	hvt_dom(other, XVM_HC_DOMAIN_UNPAUSE, d[1]);
	cr_assert_not(readable(fd, 0));

	cr_assert_eq(hvt_guest_action(other, d[2], XVM_HC_SHUTDOWN_REBOOT), 0);
	cr_assert_eq(hvt_guest_action(other, d[0], XVM_HC_SHUTDOWN_CRASH), 0);
	cr_assert(readable(fd, 2000), "event fd did not wake");
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 8, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(ids[0], d[0]);
	cr_assert_eq(ids[1], d[2]);
	cr_assert_eq(hvt_info(hv, d[0]).shutdown_reason, XVM_HC_SHUTDOWN_CRASH);
	cr_assert_eq(hvt_info(hv, d[2]).shutdown_reason, XVM_HC_SHUTDOWN_REBOOT);
	cr_assert_not(readable(fd, 0), "poll drains the event fd");
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 8, &n), 0);
	cr_assert_eq(n, 0);

	/* Only a running guest acts, and only in the ways a guest can. */
	cr_assert_eq(hvt_guest_action(other, d[0], XVM_HC_SHUTDOWN_POWEROFF), -EINVAL);
	hvt_dom(other, XVM_HC_DOMAIN_PAUSE, d[1]);
	cr_assert_eq(hvt_guest_action(other, d[1], XVM_HC_SHUTDOWN_POWEROFF), -EINVAL);
	hvt_dom(other, XVM_HC_DOMAIN_UNPAUSE, d[1]);
	cr_assert_eq(hvt_guest_action(other, d[1], XVM_HC_SHUTDOWN_SUSPEND), -EINVAL);
	cr_assert_eq(hvt_guest_action(other, 999, XVM_HC_SHUTDOWN_POWEROFF), -ESRCH);

	/* A too small buffer: count says how many, seq stays for the retry. */
	uint64_t before = seq;
	cr_assert_eq(hvt_guest_action(other, d[1], XVM_HC_SHUTDOWN_POWEROFF), 0);
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 0, &n), -ENOBUFS);
	cr_assert_eq(n, 1);
	cr_assert_eq(seq, before);
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 8, &n), 0);
	cr_assert_eq(ids[0], d[1]);
	xvm_hv_close(other);
}

Test(sim, guest_action_in_another_process)
{
	uint32_t d = hvt_create(hv, 1), ids[4], n;
	uint64_t seq = 0;
	int fd = event_fd(hv), status;
	pid_t pid;

	hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, d);
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 4, &n), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct xvm_hv *child;
		struct xvm_hc_guest_action a = { .head = XVM_HC_HEAD(0), .domid = d,
						 .action = XVM_HC_SHUTDOWN_POWEROFF };
		if (xvm_hv_open("sim", dir, 0, &child) < 0)
			_exit(2);
		_exit(xvm_hypercall(child, XVM_HC_GUEST_ACTION, &a) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
	cr_assert(readable(fd, 2000));
	cr_assert_eq(hvt_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ids[0], d);
	cr_assert_eq(hvt_info(hv, d).state, XVM_HC_STATE_SHUTDOWN);
	cr_assert_eq(hvt_info(hv, d).shutdown_reason, XVM_HC_SHUTDOWN_POWEROFF);
}

Test(sim, domains_persist_across_close_and_reopen)
{
	uint32_t a = hvt_create(hv, 1), b = hvt_create(hv, 2), c = hvt_create(hv, 3);
	struct xvm_hc_domain_vcpus v = { .head = XVM_HC_HEAD(0), .domid = a, .online = 2 };

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_VCPUS, &v), 0);
	hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, b);
	hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, c);
	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	cr_assert_eq(hvt_list_count(hv), 2);
	cr_assert_eq(hvt_info(hv, a).state, XVM_HC_STATE_PAUSED);
	cr_assert_eq(hvt_info(hv, a).vcpus_online, 2);
	cr_assert_eq(hvt_info(hv, b).state, XVM_HC_STATE_RUNNING);
	hvt_config(&cfg, 2, 1);
	cr_assert_str_eq(hvt_info(hv, b).uuid, cfg.uuid);
	cr_assert_eq(hvt_create(hv, 4), 4, "the next domid survives too");
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, hvt_host_info(hv).memory_total_kib - 3 * 65536);
}

Test(sim, memory_accounting)
{
	struct xvm_hc_host_info h = hvt_host_info(hv);
	uint64_t half = h.memory_total_kib / 2 + 1;
	uint32_t a, b;

	hvt_config(&cfg, 1, half);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &a), 0);
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, h.memory_total_kib - half);
	hvt_config(&cfg, 2, half);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, NULL), -ENOMEM);
	cr_assert(strstr(xvm_hv_last_error(hv), "KiB"), "%s", xvm_hv_last_error(hv));
	/* Lowering the target does not give the static max back. */
	struct xvm_hc_domain_memory m = { .head = XVM_HC_HEAD(0), .domid = a, .target_kib = 1024 };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m), 0);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, NULL), -ENOMEM);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, a), 0);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &b), 0);
	cr_assert_eq(hvt_host_info(hv).memory_free_kib, h.memory_total_kib - half);
}

Test(sim, list_with_small_capacity)
{
	struct xvm_hc_domain_info out[8];
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0), .capacity = 2, .domains = out };
	uint32_t d[5];

	for (int k = 0; k < 5; k++)
		d[k] = hvt_create(hv, k + 1);
	hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, d[1]);
	d[1] = hvt_create(hv, 10); /* takes the freed slot, but lists last */
	memset(out, 0, sizeof out);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), -ENOBUFS);
	cr_assert_eq(l.count, 5);
	cr_assert_eq(out[0].domid, 1);
	cr_assert_eq(out[1].domid, 3);
	cr_assert_eq(out[2].domid, 0, "wrote past capacity");
	l.capacity = 8;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 5);
	uint32_t want[] = { 1, 3, 4, 5, 6 };
	for (int k = 0; k < 5; k++) {
		cr_assert_eq(out[k].domid, want[k]);
		cr_assert_eq(out[k].head.version, XVM_HC_ABI_VERSION);
		cr_assert_eq(out[k].state, XVM_HC_STATE_PAUSED);
	}
	l.capacity = 3;
	l.domains = NULL;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), -EFAULT);
	l.capacity = 0;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), -ENOBUFS);
	cr_assert_eq(l.count, 5);
}

Test(sim, memory_vcpus_and_affinity)
{
	uint32_t d = hvt_create(hv, 1);
	struct xvm_hc_domain_memory m = { .head = XVM_HC_HEAD(0), .domid = d, .target_kib = 65537 };
	struct xvm_hc_domain_vcpus v = { .head = XVM_HC_HEAD(0), .domid = d, .online = 3 };
	struct xvm_hc_vcpu_affinity af = { .head = XVM_HC_HEAD(0), .domid = d, .vcpu = 2, .cpumask = 1 };

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m), -EINVAL);
	m.target_kib = 0;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m), -EINVAL);
	m.target_kib = 32768;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m), 0);
	cr_assert_eq(hvt_info(hv, d).memory_target_kib, 32768);
	cr_assert_eq(hvt_info(hv, d).memory_actual_kib, 32768);

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_VCPUS, &v), -EINVAL);
	v.online = 0;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_VCPUS, &v), -EINVAL);
	v.online = 2;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_VCPUS, &v), 0);
	cr_assert_eq(hvt_info(hv, d).vcpus_online, 2);

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_VCPU_AFFINITY, &af), -EINVAL);
	af.vcpu = 1;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_VCPU_AFFINITY, &af), 0);
	af.cpumask = 0;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_VCPU_AFFINITY, &af), 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 64) {
		af.cpumask = 1ull << cpus;
		cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_VCPU_AFFINITY, &af), -EINVAL);
	}
}

static int device(uint32_t domid, enum xvm_hc op, int type, uint32_t pos, int kind)
{
	struct xvm_hc_device a = { .head = XVM_HC_HEAD(0), .domid = domid, .type = type };

	a.disk.position = pos;
	a.disk.kind = kind;
	if (kind == XVM_HC_DISK)
		strcpy(a.disk.path, "/srv/sr/extra.qcow2");
	a.nic.position = pos;
	return xvm_hypercall(hv, op, &a);
}

static int media(uint32_t domid, uint32_t pos, const char *path)
{
	struct xvm_hc_media a = { .head = XVM_HC_HEAD(0), .domid = domid, .position = pos };

	strcpy(a.path, path);
	strcpy(a.format, "raw");
	return xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &a);
}

Test(sim, devices)
{
	uint32_t d = hvt_create(hv, 1);

	/* The config brought a disk at 0, a CD drive at 3 and a NIC at 0. */
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_DISK, 0, XVM_HC_DISK), -EEXIST);
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_DISK, 1, XVM_HC_DISK), 0);
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_DISK, 2, XVM_HC_CDROM), -EOPNOTSUPP,
		     "CD drives are IDE, on the sim as on QEMU: not hot-plugged");
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_NIC, 0, 0), -EEXIST);
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_NIC, 1, 0), 0);
	cr_assert_eq(device(d, XVM_HC_DEVICE_DETACH, XVM_HC_DEV_NIC, 0, 0), 0);
	cr_assert_eq(device(d, XVM_HC_DEVICE_DETACH, XVM_HC_DEV_NIC, 0, 0), -ENOENT);
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_NIC, 0, 0), 0);
	cr_assert_eq(device(d, XVM_HC_DEVICE_DETACH, XVM_HC_DEV_DISK, 9, 0), -ENOENT);
	cr_assert_eq(device(d, XVM_HC_DEVICE_DETACH, XVM_HC_DEV_DISK, 1, 0), 0);
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_DISK, 1, XVM_HC_DISK), 0,
		     "position free again after detach");
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, 7, 5, 0), -EINVAL);
	/* A NIC on a bridge, managed or not: the sim checks it and touches no host interface. */
	struct xvm_hc_device nic = { .head = XVM_HC_HEAD(0), .domid = d, .type = XVM_HC_DEV_NIC };
	nic.nic = (struct xvm_hc_nic_config){ .bridge = "xvmbrsimonly", .position = 5, .mtu = 9000,
					      .managed_bridge = true };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DEVICE_ATTACH, &nic), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(access("/sys/class/net/xvmbrsimonly", F_OK), -1);
	nic.nic.position = 6;
	nic.nic.mtu = 20;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DEVICE_ATTACH, &nic), -EINVAL);
	struct xvm_hc_bridge b = { .head = XVM_HC_HEAD(0), .bridge = "xvmbrsimonly" };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), 0);
	strcpy(b.bridge, "");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), -EINVAL);

	cr_assert_eq(media(d, 3, "/srv/iso/debian.iso"), 0);
	cr_assert_eq(media(d, 3, ""), 0, "eject");
	cr_assert_eq(media(d, 0, "/srv/iso/debian.iso"), -EINVAL, "a disk is no CD drive");
	cr_assert_eq(media(d, 8, "/srv/iso/debian.iso"), -ENOENT);

	/* 3 disks now; fill up to the limit. */
	for (uint32_t p = 10; p < 10 + XVM_HC_MAX_DISKS - 3; p++)
		cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_DISK, p, XVM_HC_DISK), 0);
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_DISK, 99, XVM_HC_DISK), -ENOSPC);

	/* Devices persist with the domain. */
	hv = xvm_hv_close(hv);
	cr_assert_eq(xvm_hv_open("sim", dir, 0, &hv), 0);
	cr_assert_eq(device(d, XVM_HC_DEVICE_ATTACH, XVM_HC_DEV_DISK, 1, XVM_HC_DISK), -EEXIST);
	cr_assert_eq(media(d, 3, "/srv/iso/x.iso"), 0);
}


/* The sim checks a vTPM's state dir as QEMU does and reports the TPM; it emulates none. */
Test(sim, vtpm_dir_checked_and_reported)
{
	uint32_t domid;

	hvt_config(&cfg, 1, 65536);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert(!hvt_info(hv, domid).vtpm);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	strcpy(cfg.vtpm_dir, "tpm");
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &domid), -EINVAL);
	snprintf(cfg.vtpm_dir, sizeof cfg.vtpm_dir, "%s/a,b", dir);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &domid), -EINVAL);
	snprintf(cfg.vtpm_dir, sizeof cfg.vtpm_dir, "%s/none", dir);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &domid), -ENOENT);
	snprintf(cfg.vtpm_dir, sizeof cfg.vtpm_dir, "%s/sim-hypervisor", dir);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &domid), -ENOTDIR, "%s", xvm_hv_last_error(hv));
	memset(cfg.vtpm_dir, 'x', sizeof cfg.vtpm_dir);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &domid), -EINVAL);
	snprintf(cfg.vtpm_dir, sizeof cfg.vtpm_dir, "%s", dir);
	cr_assert_eq(hvt_create_cfg(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert(hvt_info(hv, domid).vtpm);
}
