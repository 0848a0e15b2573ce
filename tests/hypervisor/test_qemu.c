/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemu backend with real QEMUs (TCG). The guest is a 96-byte multiboot
 * kernel built here (see guest[] below): it prints "OK" on the serial port,
 * then powers off, resets, panics (pvpanic) or idles, as the last letter
 * of its command line says. Skipped only if qemu-system-x86_64 is absent.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
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

#include "hvtest.h"
#include "qemu/qmp.h"

/*
 *	.long 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)   multiboot, a.out kludge
 *	.long 0x100000, 0x100000, 0, 0, 0x100020                    load at 1 MiB, entry
 *	mov 16(%ebx),%esi; 1: lodsb; test %al,%al; jnz 1b           end of the command line
 *	movb -2(%esi),%cl                                           its last letter
 *	mov $0x3f8,%dx; out 'O','K','\n'                            COM1
 *	cmp $'p',%cl; jne 2f; mov $0x604,%dx; mov $0x2000,%ax; out %ax,%dx   ACPI S5 (q35)
 *	2: cmp $'r',%cl; jne 3f; mov $0xfe,%al; out %al,$0x64                 8042 reset
 *	3: cmp $'c',%cl; jne 4f; mov $0x505,%dx; mov $1,%al; out %al,%dx      pvpanic
 *	4: cli; 5: hlt; jmp 5b
 */
static const unsigned char guest[] = {
	0x02, 0xb0, 0xad, 0x1b, 0x00, 0x00, 0x01, 0x00, 0xfe, 0x4f, 0x51, 0xe4,
	0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x10, 0x00, 0x8b, 0x73, 0x10, 0xac,
	0x84, 0xc0, 0x75, 0xfb, 0x8a, 0x4e, 0xfe, 0x66, 0xba, 0xf8, 0x03, 0xb0,
	0x4f, 0xee, 0xb0, 0x4b, 0xee, 0xb0, 0x0a, 0xee, 0x80, 0xf9, 0x70, 0x75,
	0x0a, 0x66, 0xba, 0x04, 0x06, 0x66, 0xb8, 0x00, 0x20, 0x66, 0xef, 0x80,
	0xf9, 0x72, 0x75, 0x04, 0xb0, 0xfe, 0xe6, 0x64, 0x80, 0xf9, 0x63, 0x75,
	0x07, 0x66, 0xba, 0x05, 0x05, 0xb0, 0x01, 0xee, 0xfa, 0xf4, 0xeb, 0xfd,
};

static char *dir;
static struct xvm_hv *hv;
static struct xvm_hc_domain_config cfg;
static char kernel[512];

static bool have_qemu(void)
{
	return access("/usr/bin/qemu-system-x86_64", X_OK) == 0 ||
	       access("/usr/local/bin/qemu-system-x86_64", X_OK) == 0;
}

#define REQUIRE_QEMU() \
	do { if (!have_qemu()) cr_skip_test("qemu-system-x86_64 is not installed"); } while (0)

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void setup(void)
{
	unsetenv("XVM_HC_FAULT");
	unsetenv("XVM_QEMU_BINARY");
	/* The test guest needs no KVM, and a nested host's KVM may be broken. */
	setenv("XVM_QEMU_ACCEL", "tcg", 1);
	dir = hvt_tmpdir();
	snprintf(kernel, sizeof kernel, "%s/guest.bin", dir);
	write_file(kernel, guest, sizeof guest, 0644);
	if (have_qemu())
		cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
}

/* Every process whose command line names our state dir: QEMUs and monitors. */
static int our_processes(pid_t *pids, int max)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (proc && (e = readdir(proc))) {
		char p[300], buf[8192], st[512], *s;
		pid_t pid = atoi(e->d_name);
		ssize_t k;
		int fd;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(p, sizeof p, "/proc/%d/stat", pid);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		k = read(fd, st, sizeof st - 1);
		close(fd);
		st[k > 0 ? k : 0] = '\0';
		s = strrchr(st, ')');
		if (!s || s[2] == 'Z')
			continue;
		snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof buf - 1);
		close(fd);
		for (ssize_t i = 0; i < k; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k > 0 ? k : 0] = '\0';
		if (strstr(buf, dir) && n < max)
			pids[n++] = pid;
	}
	if (proc)
		closedir(proc);
	return n;
}

static void teardown(void)
{
	pid_t pids[64];
	int n;

	hv = xvm_hv_close(hv);
	/* Kill whatever a failed test left: no QEMU outlives the suite. */
	n = our_processes(pids, 64);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < 100 && our_processes(pids, 64); i++)
		usleep(20000);
	hvt_rmdir(dir);
	dir = NULL;
}

TestSuite(qemu, .init = setup, .fini = teardown, .timeout = 120);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The test guest by direct kernel boot; `action`: "p", "r", "c" or "idle". */
static void guest_config(struct xvm_hc_domain_config *c, unsigned n, const char *action)
{
	memset(c, 0, sizeof *c);
	snprintf(c->uuid, sizeof c->uuid, "%08x-0000-4000-8000-%012x", n, n);
	snprintf(c->name, sizeof c->name, "guest%u", n);
	c->vcpus_max = 2;
	c->vcpus_online = 1;
	c->memory_static_max_kib = 32768;
	c->memory_target_kib = 32768;
	c->boot = XVM_HC_BOOT_DIRECT_KERNEL;
	strcpy(c->machine, "q35");
	c->acpi = true;
	snprintf(c->kernel, sizeof c->kernel, "%s", kernel);
	snprintf(c->cmdline, sizeof c->cmdline, "%s", action);
	c->ndisks = 1;
	c->disks[0].kind = XVM_HC_CDROM;
	c->disks[0].position = 3;
	c->disks[0].read_only = true;
}

static int create(struct xvm_hv *h, const struct xvm_hc_domain_config *c, uint32_t *domid)
{
	struct xvm_hc_domain_create a = { .head = XVM_HC_HEAD(0), .config = c, .domid = 0xdead };
	int r = xvm_hypercall(h, XVM_HC_DOMAIN_CREATE, &a);

	if (r < 0)
		cr_assert_eq(a.domid, 0xdead, "domid written on failure");
	*domid = a.domid;
	return r;
}

static uint32_t start_guest(struct xvm_hv *h, unsigned n, const char *action)
{
	uint32_t domid;
	int r;

	guest_config(&cfg, n, action);
	r = create(h, &cfg, &domid);
	cr_assert_eq(r, 0, "create: %d %s", r, xvm_hv_last_error(h));
	r = hvt_dom(h, XVM_HC_DOMAIN_UNPAUSE, domid);
	cr_assert_eq(r, 0, "unpause: %d %s", r, xvm_hv_last_error(h));
	return domid;
}

static bool pid_alive(pid_t pid)
{
	char p[64], st[512], *s;
	ssize_t k;
	int fd;

	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return false;
	k = read(fd, st, sizeof st - 1);
	close(fd);
	st[k > 0 ? k : 0] = '\0';
	s = strrchr(st, ')');
	return s && s[2] != 'Z' && s[2] != 'X';
}

/* GET_INFO until the domain reaches `state` or `secs` pass. */
static struct xvm_hc_domain_info wait_state(struct xvm_hv *h, uint32_t domid, enum xvm_hc_domain_state state,
					    double secs)
{
	struct xvm_hc_domain_info i;
	double end = now_s() + secs;

	for (;;) {
		i = hvt_info(h, domid);
		if (i.state == state || now_s() > end)
			return i;
		usleep(20000);
	}
}

static bool file_has(const char *path, const char *needle, double secs)
{
	double end = now_s() + secs;
	char buf[4096];

	do {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : 0;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, needle))
			return true;
		usleep(20000);
	} while (now_s() < end);
	return false;
}

static int event_poll(struct xvm_hv *h, uint64_t *seq, uint32_t *ids, uint32_t cap, uint32_t *count)
{
	struct xvm_hc_event_poll a = { .head = XVM_HC_HEAD(0), .since_seq = *seq, .capacity = cap, .domids = ids };
	int r = xvm_hypercall(h, XVM_HC_EVENT_POLL, &a);

	*count = a.count;
	if (r == 0)
		*seq = a.seq;
	return r;
}

static void assert_gone(uint32_t domid, pid_t pid)
{
	struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(0), .domid = domid };
	char p[600];
	pid_t pids[8];

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), -ESRCH);
	cr_assert(!pid_alive(pid), "QEMU %d outlived its domain", (int)pid);
	snprintf(p, sizeof p, "%s/run/qemu/%u", dir, domid);
	cr_assert(access(p, F_OK) < 0, "%s is left behind", p);
	cr_assert_eq(our_processes(pids, 8), 0, "a process of the domain is left (pid %d)", (int)pids[0]);
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
	guest_config(&cfg, 1, "idle");
	t0 = now_s();
	r = create(hv, &cfg, &domid);
	cr_assert_eq(r, 0, "%s", xvm_hv_last_error(hv));
	i = hvt_info(hv, domid);
	cr_assert_eq(i.state, XVM_HC_STATE_PAUSED);
	cr_assert_gt(i.pid, 0);
	cr_assert_str_eq(i.uuid, cfg.uuid);
	cr_assert_eq(i.vcpus_max, 2);
	cr_assert_eq(i.vcpus_online, 1);
	cr_assert_eq(i.memory_static_max_kib, 32768);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	t1 = now_s();
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_RUNNING);
	snprintf(log, sizeof log, "%s/run/qemu/%u/serial.log", dir, domid);
	cr_assert(file_has(log, "OK", 30), "the guest printed nothing on its serial port");
	cr_log_info("create+unpause: %.0f ms; guest output after %.0f ms", (t1 - t0) * 1000, (now_s() - t0) * 1000);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_PAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_PAUSED);
	/* Same uuid again: refused, nothing started. */
	uint32_t again;
	cr_assert_eq(create(hv, &cfg, &again), -EEXIST);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0, "%s", xvm_hv_last_error(hv));
	assert_gone(domid, (pid_t)i.pid);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), -ESRCH);
}

Test(qemu, domids_are_never_reused)
{
	uint32_t a, b;

	REQUIRE_QEMU();
	a = start_guest(hv, 1, "idle");
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, a), 0);
	b = start_guest(hv, 1, "idle");
	cr_assert_gt(b, a);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, b), 0);
}

static void guest_stops(const char *action, enum xvm_hc_shutdown_reason reason)
{
	struct xvm_hc_domain_info i;
	uint32_t ids[4], n, domid;
	uint64_t seq = 0;

	cr_assert_eq(event_poll(hv, &seq, ids, 4, &n), 0);
	domid = start_guest(hv, 1, action);
	i = wait_state(hv, domid, XVM_HC_STATE_SHUTDOWN, 30);
	cr_assert_eq(i.state, XVM_HC_STATE_SHUTDOWN, "the guest did not stop");
	cr_assert_eq(i.shutdown_reason, reason, "reason %d, expected %d", i.shutdown_reason, reason);
	cr_assert_gt(i.pid, 0, "QEMU must stay for the reason to be read");
	cr_assert_eq(event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ids[0], domid);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), -EINVAL);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	assert_gone(domid, (pid_t)i.pid);
	/* Our own destroy is no event. */
	cr_assert_eq(event_poll(hv, &seq, ids, 4, &n), 0);
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
	s.domid = g.domid = start_guest(hv, 1, "idle");
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

Test(qemu, readopted_by_a_later_open)
{
	struct xvm_hc_domain_info before, after;
	uint32_t domid;

	REQUIRE_QEMU();
	domid = start_guest(hv, 1, "idle");
	before = hvt_info(hv, domid);
	hv = xvm_hv_close(hv);
	cr_assert(pid_alive((pid_t)before.pid), "QEMU died with the handle");
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
	assert_gone(domid, (pid_t)before.pid);
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
	g.domid = start_guest(hv, 1, "idle");
	hv = xvm_hv_close(hv);
	mon = pid_file(g.domid, "monitor.pid");
	cr_assert_eq(kill(mon, SIGKILL), 0);
	for (int i = 0; i < 100 && pid_alive(mon); i++)
		usleep(10000);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
	/* The new monitor writes its pid file a moment after it starts. */
	for (int i = 0; i < 200 && pid_file(g.domid, "monitor.pid") == mon; i++)
		usleep(10000);
	cr_assert_neq(pid_file(g.domid, "monitor.pid"), mon);
	cr_assert(pid_alive(pid_file(g.domid, "monitor.pid")));
	cr_assert_eq(hvt_info(hv, g.domid).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(event_poll(hv, &seq, ids, 4, &n), 0);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_GUEST_ACTION, &g), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(event_poll(hv, &seq, ids, 4, &n), 0);
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
	domid = start_guest(hv, 1, "idle");
	i = hvt_info(hv, domid);
	cr_assert_eq(xvm_hv_open("qemu", dir, 0, &other), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(event_poll(other, &seq, ids, 4, &n), 0);
	cr_assert_eq(kill((pid_t)i.pid, SIGKILL), 0);
	for (end = now_s() + 10; now_s() < end; usleep(20000)) {
		cr_assert_eq(event_poll(other, &seq, ids, 4, &n), 0);
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
	assert_gone(domid, (pid_t)i.pid);
}

Test(qemu, save_and_restore)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(0) };
	struct xvm_hc_domain_restore r = { .head = XVM_HC_HEAD(0), .config = &cfg };
	struct xvm_hc_domain_info before, after;
	double t0;
	int rc;

	REQUIRE_QEMU();
	s.domid = start_guest(hv, 1, "idle");
	before = hvt_info(hv, s.domid);
	snprintf(s.path, sizeof s.path, "%s/it's saved", dir); /* a quote must not break the shell */
	t0 = now_s();
	rc = xvm_hypercall(hv, XVM_HC_DOMAIN_SAVE, &s);
	cr_assert_eq(rc, 0, "save: %s", xvm_hv_last_error(hv));
	cr_log_info("save: %.0f ms", (now_s() - t0) * 1000);
	assert_gone(s.domid, (pid_t)before.pid);
	strcpy(r.path, s.path);
	t0 = now_s();
	rc = xvm_hypercall(hv, XVM_HC_DOMAIN_RESTORE, &r);
	cr_assert_eq(rc, 0, "restore: %s", xvm_hv_last_error(hv));
	cr_log_info("restore: %.0f ms", (now_s() - t0) * 1000);
	after = hvt_info(hv, r.domid);
	cr_assert_eq(after.state, XVM_HC_STATE_PAUSED);
	cr_assert_eq(after.start_time, before.start_time);
	cr_assert_neq(r.domid, s.domid);
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
	cr_assert_eq(our_processes(pids, 8), 0, "a process is left");
}

Test(qemu, corrupt_save_files)
{
	struct xvm_hc_domain_save s = { .head = XVM_HC_HEAD(0) };
	char copy[5000];

	REQUIRE_QEMU();
	s.domid = start_guest(hv, 1, "idle");
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
	c.domid = start_guest(hv, 1, "idle");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_CONSOLE_OPEN, &c), 0, "%s", xvm_hv_last_error(hv));
	cr_assert(file_has(c.log_path, "OK", 30), "no serial output in %s", c.log_path);
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
	domid = m.domid = v.domid = aff.domid = media.domid = nic.domid = start_guest(hv, 1, "idle");
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

Test(qemu, missing_files)
{
	uint32_t domid;

	REQUIRE_QEMU();
	guest_config(&cfg, 1, "idle");
	strcpy(cfg.kernel, "/nonexistent/vmlinuz");
	cr_assert_eq(create(hv, &cfg, &domid), -ENOENT);
	cr_assert(strstr(xvm_hv_last_error(hv), "/nonexistent/vmlinuz"));
	guest_config(&cfg, 1, "idle");
	setenv("XVM_QEMU_BINARY", "/nonexistent/qemu", 1);
	cr_assert_eq(create(hv, &cfg, &domid), -ENOENT);
	cr_assert(strstr(xvm_hv_last_error(hv), "/nonexistent/qemu"), "%s", xvm_hv_last_error(hv));
	unsetenv("XVM_QEMU_BINARY");
	if (access("/usr/share/OVMF/OVMF_CODE.fd", F_OK) < 0 && access("/usr/share/OVMF/OVMF_CODE_4M.fd", F_OK) < 0) {
		cfg.boot = XVM_HC_BOOT_HVM;
		strcpy(cfg.firmware, "uefi");
		cr_assert_eq(create(hv, &cfg, &domid), -ENOENT);
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
	guest_config(&cfg, 1, "idle");
	snprintf(cfg.kernel, sizeof cfg.kernel, "%s/corrupt-kernel", dir);
	write_file(cfg.kernel, "this is not a kernel at all", 27, 0644);
	r = create(hv, &cfg, &domid);
	cr_assert_eq(r, -EIO, "%d %s", r, xvm_hv_last_error(hv));
	cr_log_info("start-up failure: %s", xvm_hv_last_error(hv));
	cr_assert(strstr(xvm_hv_last_error(hv), "invalid kernel header"), "no stderr in: %s", xvm_hv_last_error(hv));
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l), 0);
	cr_assert_eq(l.count, 0);
	cr_assert_eq(our_processes(pids, 8), 0);
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
	write_file(fake, silent_qemu, sizeof silent_qemu - 1, 0755);
	setenv("XVM_QEMU_BINARY", fake, 1);
	guest_config(&cfg, 1, "idle");
	t0 = now_s();
	r = create(hv, &cfg, &domid);
	unsetenv("XVM_QEMU_BINARY");
	cr_assert_eq(r, -ETIMEDOUT, "%d %s", r, xvm_hv_last_error(hv));
	cr_assert_lt(now_s() - t0, 15, "took %.1f s", now_s() - t0);
	cr_assert(strstr(xvm_hv_last_error(hv), "QMP"), "%s", xvm_hv_last_error(hv));
	cr_log_info("silent QMP: %s after %.1f s", xvm_hv_last_error(hv), now_s() - t0);
	cr_assert_eq(our_processes(pids, 8), 0, "the fake QEMU (pid %d) is left", (int)pids[0]);
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
	t0 = now_s();
	cr_assert_eq(qmp_connect(su.sun_path, 1000, &q), -ETIMEDOUT);
	cr_assert(now_s() - t0 < 3);
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
	guest_config(&cfg, 7, "idle");
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			struct xvm_hv *h;
			uint32_t domid;
			int r;
			if (xvm_hv_open("qemu", dir, 0, &h) < 0)
				_exit(3);
			r = create(h, &cfg, &domid);
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
	assert_gone(one.domid, (pid_t)one.pid);
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
	guest_config(&cfg, 1, "idle");
	strcpy(cfg.machine, "pc");
	cfg.ndisks = 2;
	cfg.disks[0] = (struct xvm_hc_disk_config){ .kind = XVM_HC_DISK, .position = 0, .format = "raw" };
	strcpy(cfg.disks[0].path, disk);
	cfg.disks[1] = (struct xvm_hc_disk_config){ .kind = XVM_HC_CDROM, .position = 2, .read_only = true };
	strcpy(cfg.disks[1].path, kernel);
	cfg.nnics = 1;
	strcpy(cfg.nics[0].mac, "02:00:00:00:00:07");
	r = create(hv, &cfg, &domid);
	cr_assert_eq(r, 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_UNPAUSE, domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_eq(hvt_info(hv, domid).state, XVM_HC_STATE_RUNNING);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
}
