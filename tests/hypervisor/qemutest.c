/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qemu fixture and helpers shared by test_qemu.c and test_qemu_faults.c. */
#define HVT_QEMU_FIXTURE
#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hvtest.h"
#include "qemu/qmp.h"
#include "qemutest.h"

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

char *dir;
struct xvm_hv *hv;
struct xvm_hc_domain_config cfg;
char kernel[512];

bool hvt_have_qemu(void)
{
	return access("/usr/bin/qemu-system-x86_64", X_OK) == 0 ||
	       access("/usr/local/bin/qemu-system-x86_64", X_OK) == 0;
}

void hvt_write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

void hvt_qemu_setup(void)
{
	unsetenv("XVM_HC_FAULT");
	unsetenv("XVM_QEMU_BINARY");
	/* The test guest needs no KVM, and a nested host's KVM may be broken. */
	setenv("XVM_QEMU_ACCEL", "tcg", 1);
	dir = hvt_tmpdir();
	snprintf(kernel, sizeof kernel, "%s/guest.bin", dir);
	hvt_write_file(kernel, guest, sizeof guest, 0644);
	if (hvt_have_qemu())
		cr_assert_eq(xvm_hv_open("qemu", dir, 0, &hv), 0, "%s", xvm_hv_last_error(NULL));
}

/* Every process whose command line names our state dir: QEMUs and monitors. */
int hvt_our_processes(pid_t *pids, int max)
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

void hvt_qemu_teardown(void)
{
	pid_t pids[64];
	int n;

	hv = xvm_hv_close(hv);
	/* Kill whatever a failed test left: no QEMU outlives the suite. */
	n = hvt_our_processes(pids, 64);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < 100 && hvt_our_processes(pids, 64); i++)
		usleep(20000);
	hvt_rmdir(dir);
	dir = NULL;
}


double hvt_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The test guest by direct kernel boot; `action`: "p", "r", "c" or "idle". */
void hvt_guest_config(struct xvm_hc_domain_config *c, unsigned n, const char *action)
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

int hvt_qemu_create(struct xvm_hv *h, const struct xvm_hc_domain_config *c, uint32_t *domid)
{
	struct xvm_hc_domain_create a = { .head = XVM_HC_HEAD(0), .config = c, .domid = 0xdead };
	int r = xvm_hypercall(h, XVM_HC_DOMAIN_CREATE, &a);

	if (r < 0)
		cr_assert_eq(a.domid, 0xdead, "domid written on failure");
	*domid = a.domid;
	return r;
}

uint32_t hvt_start_guest(struct xvm_hv *h, unsigned n, const char *action)
{
	uint32_t domid;
	int r;

	hvt_guest_config(&cfg, n, action);
	r = hvt_qemu_create(h, &cfg, &domid);
	cr_assert_eq(r, 0, "create: %d %s", r, xvm_hv_last_error(h));
	r = hvt_dom(h, XVM_HC_DOMAIN_UNPAUSE, domid);
	cr_assert_eq(r, 0, "unpause: %d %s", r, xvm_hv_last_error(h));
	return domid;
}

bool hvt_pid_alive(pid_t pid)
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


int hvt_qemu_event_poll(struct xvm_hv *h, uint64_t *seq, uint32_t *ids, uint32_t cap, uint32_t *count)
{
	struct xvm_hc_event_poll a = { .head = XVM_HC_HEAD(0), .since_seq = *seq, .capacity = cap, .domids = ids };
	int r = xvm_hypercall(h, XVM_HC_EVENT_POLL, &a);

	*count = a.count;
	if (r == 0)
		*seq = a.seq;
	return r;
}

void hvt_assert_gone(uint32_t domid, pid_t pid)
{
	struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(0), .domid = domid };
	char p[600];
	pid_t pids[8];

	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i), -ESRCH);
	cr_assert(!hvt_pid_alive(pid), "QEMU %d outlived its domain", (int)pid);
	snprintf(p, sizeof p, "%s/run/qemu/%u", dir, domid);
	cr_assert(access(p, F_OK) < 0, "%s is left behind", p);
	cr_assert_eq(hvt_our_processes(pids, 8), 0, "a process of the domain is left (pid %d)", (int)pids[0]);
}

struct json_object *hvt_qmp(uint32_t domid, const char *cmd, struct json_object *args)
{
	char sock[600];
	struct json_object *ret = NULL;
	struct qmp *q;
	int r;

	snprintf(sock, sizeof sock, "%s/run/qemu/%u/qmp.sock", dir, domid);
	cr_assert_eq(qmp_connect(sock, 3000, &q), 0, "%s", xvm_hv_last_error(NULL));
	r = qmp_command(q, cmd, args, &ret);
	cr_assert_eq(r, 0, "%s: %s", cmd, xvm_hv_last_error(NULL));
	qmp_close(q);
	json_object_put(args);
	return ret;
}

void hvt_node_names(uint32_t domid, char *buf, size_t size)
{
	struct json_object *args = json_tokener_parse("{\"flat\": true}");
	struct json_object *nodes = hvt_qmp(domid, "query-named-block-nodes", args), *v;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(nodes); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(nodes, i), "node-name", &v))
			snprintf(buf + strlen(buf), size - strlen(buf), "%s ", json_object_get_string(v));
	json_object_put(nodes);
}

uint64_t hvt_device_size(uint32_t domid, uint32_t pos, char node[64])
{
	struct json_object *blocks = hvt_qmp(domid, "query-block", NULL), *v, *ins, *img;
	char id[32], virtio[64];
	uint64_t size = 0;

	node[0] = '\0';
	snprintf(id, sizeof id, "disk%u", pos);
	snprintf(virtio, sizeof virtio, "/machine/peripheral/disk%u/virtio-backend", pos);
	for (size_t i = 0; i < json_object_array_length(blocks); i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i);
		const char *qdev = json_object_object_get_ex(b, "qdev", &v) ? json_object_get_string(v) : "";
		if ((strcmp(qdev, id) && strcmp(qdev, virtio)) || !json_object_object_get_ex(b, "inserted", &ins))
			continue;
		json_object_object_get_ex(ins, "image", &img);
		json_object_object_get_ex(img, "virtual-size", &v);
		size = (uint64_t)json_object_get_int64(v);
		json_object_object_get_ex(ins, "node-name", &v);
		snprintf(node, 64, "%s", json_object_get_string(v));
	}
	json_object_put(blocks);
	return size;
}

bool hvt_file_has(const char *path, const char *needle, double secs)
{
	static char buf[1 << 20];
	double end = hvt_now_s() + secs;

	do {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : 0;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, needle))
			return true;
		usleep(20000);
	} while (hvt_now_s() < end);
	return false;
}
