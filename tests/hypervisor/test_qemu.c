/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemu backend with real QEMUs (TCG): lifecycle, guest-initiated stops,
 * save/restore, consoles, runtime settings and devices. The guest and the
 * fixture are in qemutest.c; start-up failures, silent QMP, races, crashes
 * and re-adoption are in test_qemu_faults.c. Skipped only if
 * qemu-system-x86_64 is absent.
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

/* GET_INFO until the domain reaches `state` or `secs` pass. */
static struct xvm_hc_domain_info wait_state(struct xvm_hv *h, uint32_t domid, enum xvm_hc_domain_state state,
					    double secs)
{
	struct xvm_hc_domain_info i;
	double end = hvt_now_s() + secs;

	for (;;) {
		i = hvt_info(h, domid);
		if (i.state == state || hvt_now_s() > end)
			return i;
		usleep(20000);
	}
}

Test(qemu, host_info)
{
	struct xvm_hc_host_info i = { .head = XVM_HC_HEAD(0) };

	REQUIRE_QEMU();
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_HOST_INFO, &i), 0);
	cr_assert_str_eq(i.backend, "qemu");
	cr_assert_gt(i.cpu_count, 0);
	cr_assert_gt(i.memory_total_kib, 0);
	cr_assert_eq(i.accel, XVM_HC_ACCEL_TCG);
	cr_assert(i.hvm_capable && i.pv_capable);
	cr_assert_gt(i.max_vcpus_per_domain, 1);
	cr_assert_neq(i.cpu_model[0], '\0');
}

Test(qemu, lifecycle)
{
	struct xvm_hc_domain_info i;
	char log[600];
	uint32_t domid;
	double t0, t1;
	int r;

	REQUIRE_QEMU();
	hvt_guest_config(&cfg, 1, "idle");
	t0 = hvt_now_s();
	r = hvt_qemu_create(hv, &cfg, &domid);
	cr_assert_eq(r, 0, "%s", xvm_hv_last_error(hv));
	i = hvt_info(hv, domid);
	cr_assert_eq(i.state, XVM_HC_STATE_PAUSED);
	cr_assert_gt(i.pid, 0);
	cr_assert_str_eq(i.uuid, cfg.uuid);
	cr_assert_eq(i.vcpus_max, 2);
	cr_assert_eq(i.vcpus_online, 1);
	cr_assert_eq(i.memory_static_max_kib, 32768);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	t1 = hvt_now_s();
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_RUNNING);
	snprintf(log, sizeof log, "%s/run/qemu/%u/serial.log", dir, domid);
	cr_assert(hvt_file_has(log, "OK", 30), "the guest printed nothing on its serial port");
	cr_log_info("create+unpause: %.0f ms; guest output after %.0f ms", (t1 - t0) * 1000, (hvt_now_s() - t0) * 1000);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_PAUSED);
	/* Same uuid again: refused, nothing started. */
	uint32_t again;
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &again), -EEXIST);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0, "%s", xvm_hv_last_error(hv));
	hvt_assert_gone(domid, (pid_t)i.pid);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), -ESRCH);
}

Test(qemu, domids_are_never_reused)
{
	uint32_t a, b;

	REQUIRE_QEMU();
	a = hvt_start_guest(hv, 1, "idle");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, a), 0);
	b = hvt_start_guest(hv, 1, "idle");
	cr_assert_gt(b, a);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, b), 0);
}

static void guest_stops(const char *action, enum xvm_hc_shutdown_reason reason)
{
	struct xvm_hc_domain_info i;
	uint32_t ids[4], n, domid;
	uint64_t seq = 0;

	cr_assert_eq(hvt_qemu_event_poll(hv, &seq, ids, 4, &n), 0);
	domid = hvt_start_guest(hv, 1, action);
	i = wait_state(hv, domid, XVM_HC_STATE_SHUTDOWN, 30);
	cr_assert_eq(i.state, XVM_HC_STATE_SHUTDOWN, "the guest did not stop");
	cr_assert_eq(i.shutdown_reason, reason, "reason %d, expected %d", i.shutdown_reason, reason);
	cr_assert_gt(i.pid, 0, "QEMU must stay for the reason to be read");
	cr_assert_eq(hvt_qemu_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ids[0], domid);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), -EINVAL);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	hvt_assert_gone(domid, (pid_t)i.pid);
	/* Our own destroy is no event. */
	cr_assert_eq(hvt_qemu_event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(n, 0);
}

Test(qemu, guest_powers_off)
{
	REQUIRE_QEMU();
	guest_stops("p", XVM_HC_SHUTDOWN_POWEROFF);
}

Test(qemu, guest_reboots)
{
	REQUIRE_QEMU();
	guest_stops("r", XVM_HC_SHUTDOWN_REBOOT);
}

Test(qemu, guest_panics)
{
	REQUIRE_QEMU();
	guest_stops("c", XVM_HC_SHUTDOWN_CRASH);
}

Test(qemu, shutdown_requests)
{
	struct xvm_hc_domain_shutdown s = { .head = XVM_HC_HEAD(0), .reason = XVM_HC_SHUTDOWN_POWEROFF };
	struct xvm_hc_guest_action g = { .head = XVM_HC_HEAD(0), .action = XVM_HC_SHUTDOWN_POWEROFF };

	REQUIRE_QEMU();
	s.domid = g.domid = hvt_start_guest(hv, 1, "idle");
	/* The button is pressed; this guest has no ACPI and ignores it. */
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SHUTDOWN, &s), 0, "%s", xvm_hv_last_error(hv));
	s.reason = XVM_HC_SHUTDOWN_REBOOT;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SHUTDOWN, &s), -EOPNOTSUPP);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_GUEST_ACTION, &g), -EOPNOTSUPP);
	cr_assert_eq(hvt_info(hv, g.domid).state, XVM_HC_STATE_RUNNING);
	g.action = XVM_HC_SHUTDOWN_CRASH;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_GUEST_ACTION, &g), 0, "%s", xvm_hv_last_error(hv));
	struct xvm_hc_domain_info i = hvt_info(hv, g.domid);
	cr_assert_eq(i.state, XVM_HC_STATE_SHUTDOWN);
	cr_assert_eq(i.shutdown_reason, XVM_HC_SHUTDOWN_CRASH);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, g.domid), 0);
}


Test(qemu, save_and_restore)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(0) };
	struct xvm_hc_domain_restore r = { .head = XVM_HC_HEAD(0), .config = &cfg };
	struct xvm_hc_domain_info before, after;
	double t0;
	int rc;

	REQUIRE_QEMU();
	s.domid = hvt_start_guest(hv, 1, "idle");
	before = hvt_info(hv, s.domid);
	snprintf(s.path, sizeof s.path, "%s/it's saved", dir); /* a quote must not break the shell */
	t0 = hvt_now_s();
	rc = xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s);
	cr_assert_eq(rc, 0, "save: %s", xvm_hv_last_error(hv));
	cr_log_info("save: %.0f ms", (hvt_now_s() - t0) * 1000);
	hvt_assert_gone(s.domid, (pid_t)before.pid);
	strcpy(r.path, s.path);
	t0 = hvt_now_s();
	rc = xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &r);
	cr_assert_eq(rc, 0, "restore: %s", xvm_hv_last_error(hv));
	cr_log_info("restore: %.0f ms", (hvt_now_s() - t0) * 1000);
	after = hvt_info(hv, r.domid);
	cr_assert_eq(after.state, XVM_HC_STATE_PAUSED);
	cr_assert_eq(after.start_time, before.start_time);
	cr_assert_neq(r.domid, s.domid);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, r.domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, r.domid).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, r.domid), 0);
}

/* A checkpoint: QEMU saves and the same process runs on; the image restores. */
Test(qemu, save_keep_runs_on)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(XVM_HC_F_SAVE_KEEP) };
	struct xvm_hc_domain_restore r = { .head = XVM_HC_HEAD(0), .config = &cfg };
	struct xvm_hc_domain_info before, after;
	int rc;

	REQUIRE_QEMU();
	s.domid = hvt_start_guest(hv, 1, "idle");
	before = hvt_info(hv, s.domid);
	snprintf(s.path, sizeof s.path, "%s/checkpoint", dir);
	rc = xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s);
	cr_assert_eq(rc, 0, "save: %s", xvm_hv_last_error(hv));
	after = hvt_info(hv, s.domid);
	cr_assert_eq(after.state, XVM_HC_STATE_RUNNING, "the guest runs on");
	cr_assert_eq(after.pid, before.pid, "in the same QEMU");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, s.domid), 0);
	hvt_assert_gone(s.domid, (pid_t)before.pid);
	strcpy(r.path, s.path);
	rc = xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &r);
	cr_assert_eq(rc, 0, "restore: %s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, r.domid).start_time, before.start_time);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, r.domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, r.domid).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, r.domid), 0);
}

static void corrupt_restore(const char *path, off_t at, const char *bytes, bool truncate_it)
{
	struct xvm_hc_domain_restore r = { .head = XVM_HC_HEAD(0), .config = &cfg };
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	pid_t pids[8];
	struct stat st;
	int fd = open(path, O_RDWR), rc;

	cr_assert(fd >= 0);
	if (truncate_it) {
		cr_assert_eq(fstat(fd, &st), 0);
		cr_assert_eq(ftruncate(fd, st.st_size / 2), 0);
	} else {
		cr_assert_eq(pwrite(fd, bytes, strlen(bytes), at), (ssize_t)strlen(bytes));
	}
	close(fd);
	strcpy(r.path, path);
	rc = xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &r);
	cr_assert_eq(rc, -EINVAL, "restore of a corrupt file: %d %s", rc, xvm_hv_last_error(hv));
	cr_log_info("corrupt save file: %s", xvm_hv_last_error(hv));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 0, "a domain is left");
	cr_assert_eq(hvt_our_processes(pids, 8), 0, "a process is left");
}

Test(qemu, corrupt_save_files)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(0) };
	char copy[5000];

	REQUIRE_QEMU();
	s.domid = hvt_start_guest(hv, 1, "idle");
	snprintf(s.path, sizeof s.path, "%s/saved", dir);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s), 0, "%s", xvm_hv_last_error(hv));
	snprintf(copy, sizeof copy, "cp '%s' '%s.2' && cp '%s' '%s.3'", s.path, s.path, s.path, s.path);
	cr_assert_eq(system(copy), 0);
	corrupt_restore(s.path, 0, "", true);
	/* Garbage inside QEMU's own stream, with a valid END record: QEMU refuses it. */
	snprintf(copy, sizeof copy, "%s.2", s.path);
	corrupt_restore(copy, 4096 + 4, "\xff\xff\xff\xff\xff\xff\xff\xff", false);
	snprintf(copy, sizeof copy, "%s.3", s.path);
	corrupt_restore(copy, 0, "XVMQSAVX", false);
}

Test(qemu, consoles)
{
	struct xvm_hc_console c = { .head = XVM_HC_HEAD(0), .kind = XVM_HC_CONSOLE_SERIAL };
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	struct sockaddr_in si = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char banner[13] = "";
	int fd, port, ws;
	struct pollfd p;

	REQUIRE_QEMU();
	c.domid = hvt_start_guest(hv, 1, "idle");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_CONSOLE_OPEN, &c), 0, "%s", xvm_hv_last_error(hv));
	cr_assert(hvt_file_has(c.log_path, "OK", 30), "no serial output in %s", c.log_path);
	cr_assert_lt(strlen(c.location), sizeof su.sun_path);
	memcpy(su.sun_path, c.location, strlen(c.location) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&su, sizeof su), 0, "serial socket %s", c.location);
	close(fd);

	c.kind = XVM_HC_CONSOLE_VNC;
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_CONSOLE_OPEN, &c), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(sscanf(c.location, "127.0.0.1:%d,ws=%d", &port, &ws), 2, "location %s", c.location);
	cr_assert(port >= 5900 && ws >= 5700);
	si.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&si, sizeof si), 0);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 10000), 1);
	cr_assert_eq(read(fd, banner, 12), 12);
	cr_assert_str_eq(banner, "RFB 003.008\n");
	close(fd);
	si.sin_port = htons(ws);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&si, sizeof si), 0, "websocket port %d", ws);
	close(fd);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, c.domid), 0);
}

Test(qemu, runtime_settings_and_devices)
{
	struct xvm_hc_domain_memory m = { .head = XVM_HC_HEAD(0), .target_kib = 16384 };
	struct xvm_hc_domain_vcpus v = { .head = XVM_HC_HEAD(0), .online = 2 };
	struct xvm_hc_vcpu_affinity aff = { .head = XVM_HC_HEAD(0), .vcpu = 0, .cpumask = 1 };
	struct xvm_hc_media media = { .head = XVM_HC_HEAD(0), .position = 3, .format = "raw" };
	struct xvm_hc_device nic = { .head = XVM_HC_HEAD(0), .type = XVM_HC_DEV_NIC };
	struct json_object *cpus, *t;
	char path[600], status[4096];
	struct qmp *q;
	uint32_t domid;
	int fd;
	ssize_t n;

	REQUIRE_QEMU();
	domid = m.domid = v.domid = aff.domid = media.domid = nic.domid = hvt_start_guest(hv, 1, "idle");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_MEMORY, &m), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, domid).memory_target_kib, 16384);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_SET_VCPUS, &v), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, domid).vcpus_online, 2);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_VCPU_AFFINITY, &aff), 0, "%s", xvm_hv_last_error(hv));
	/* vCPU 0's thread is pinned to CPU 0. */
	pid_t pid = (pid_t)hvt_info(hv, domid).pid;
	snprintf(path, sizeof path, "%s/run/qemu/%u/qmp.sock", dir, domid);
	cr_assert_eq(qmp_connect(path, 3000, &q), 0);
	cr_assert_eq(qmp_command(q, "query-cpus-fast", NULL, &cpus), 0);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(cpus, 0), "thread-id", &t));
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)json_object_get_int(t));
	json_object_put(cpus);
	qmp_close(q);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "%s", path);
	n = read(fd, status, sizeof status - 1);
	close(fd);
	status[n > 0 ? n : 0] = '\0';
	cr_assert(strstr(status, "Cpus_allowed_list:\t0\n"), "not pinned: %s", status);

	strcpy(media.path, kernel); /* any file makes a disc */
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &media), 0, "%s", xvm_hv_last_error(hv));
	media.path[0] = '\0';
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &media), 0, "%s", xvm_hv_last_error(hv));
	strcpy(media.path, "/nonexistent.iso");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_MEDIA_CHANGE, &media), -ENOENT);
	nic.nic.position = 1;
	strcpy(nic.nic.mac, "02:00:00:00:00:01");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DEVICE_ATTACH, &nic), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DEVICE_ATTACH, &nic), -EEXIST);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
}


/* Both boards, with a disk, a CD and a NIC on the command line. */
Test(qemu, pc_machine_with_disks_and_nic)
{
	char disk[600];
	uint32_t domid;
	int fd, r;

	REQUIRE_QEMU();
	snprintf(disk, sizeof disk, "%s/disk, with a comma.raw", dir);
	fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);
	hvt_guest_config(&cfg, 1, "idle");
	strcpy(cfg.machine, "pc");
	cfg.ndisks = 2;
	cfg.disks[0] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = 0, .format = "raw" };
	strcpy(cfg.disks[0].path, disk);
	cfg.disks[1] = (struct xvm_hc_disk_config){ .kind = XVM_HC_CDROM, .position = 2, .read_only = true };
	strcpy(cfg.disks[1].path, kernel);
	cfg.nnics = 1;
	strcpy(cfg.nics[0].mac, "02:00:00:00:00:07");
	r = hvt_qemu_create(hv, &cfg, &domid);
	cr_assert_eq(r, 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
}