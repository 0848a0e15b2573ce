/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hvtest.h"

char *hvt_tmpdir(void)
{
	char *d = strdup("/tmp/xvm-hvtest-XXXXXX");

	cr_assert(d && mkdtemp(d), "mkdtemp");
	return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void hvt_rmdir(char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

void hvt_config(struct xvm_hc_domain_config *c, unsigned n, uint64_t mem_kib)
{
	memset(c, 0, sizeof *c);
	snprintf(c->uuid, sizeof c->uuid, "%08x-0000-4000-8000-%012x", n, n);
	snprintf(c->name, sizeof c->name, "vm%u", n);
	c->vcpus_max = 2;
	c->vcpus_online = 1;
	c->memory_static_max_kib = mem_kib;
	c->memory_target_kib = mem_kib;
	c->boot = XVM_HC_BOOT_HVM;
	strcpy(c->firmware, "bios");
	strcpy(c->boot_order, "dc");
	strcpy(c->machine, "q35");
	c->acpi = true;
	c->ndisks = 2;
	strcpy(c->disks[0].path, "/srv/sr/disk0.qcow2");
	strcpy(c->disks[0].format, "qcow2");
	c->disks[0].kind = XVM_HC_DISK;
	c->disks[0].position = 0;
	c->disks[0].bootable = true;
	c->disks[1].kind = XVM_HC_CDROM;
	c->disks[1].position = 3;
	c->disks[1].read_only = true;
	c->nnics = 1;
	snprintf(c->nics[0].mac, sizeof c->nics[0].mac, "02:00:00:00:%02x:%02x",
		 (n >> 8) & 0xff, n & 0xff);
	c->nics[0].position = 0;
}

uint32_t hvt_create(struct xvm_hv *hv, unsigned n)
{
	static _Thread_local struct xvm_hc_domain_config c;
	struct xvm_hc_domain_create a = { .head = XVM_HC_HEAD(0), .config = &c };
	int r;

	hvt_config(&c, n, 65536);
	r = xvm_hypercall(hv, XVM_HC_DOMAIN_CREATE, &a);
	cr_assert_eq(r, 0, "create %u: %d %s", n, r, xvm_hv_last_error(hv));
	return a.domid;
}

struct xvm_hc_domain_info hvt_info(struct xvm_hv *hv, uint32_t domid)
{
	struct xvm_hc_domain_info i = { .head = XVM_HC_HEAD(0), .domid = domid };
	int r = xvm_hypercall(hv, XVM_HC_DOMAIN_GET_INFO, &i);

	cr_assert_eq(r, 0, "get_info %u: %d %s", domid, r, xvm_hv_last_error(hv));
	return i;
}

int hvt_dom(struct xvm_hv *hv, enum xvm_hc op, uint32_t domid)
{
	struct xvm_hc_domain a = { .head = XVM_HC_HEAD(0), .domid = domid };

	return xvm_hypercall(hv, op, &a);
}

int hvt_create_cfg(struct xvm_hv *h, const struct xvm_hc_domain_config *c, uint32_t *domid)
{
	struct xvm_hc_domain_create a = { .head = XVM_HC_HEAD(0), .config = c, .domid = 0xdead };
	int r = xvm_hypercall(h, XVM_HC_DOMAIN_CREATE, &a);

	if (r < 0)
		cr_assert_eq(a.domid, 0xdead, "domid written on failure");
	if (domid)
		*domid = a.domid;
	return r;
}

struct xvm_hc_host_info hvt_host_info(struct xvm_hv *h)
{
	struct xvm_hc_host_info i = { .head = XVM_HC_HEAD(0) };

	cr_assert_eq(xvm_hypercall(h, XVM_HC_HOST_INFO, &i), 0);
	return i;
}

int hvt_shutdown_req(struct xvm_hv *h, uint32_t domid, enum xvm_hc_shutdown_reason why)
{
	struct xvm_hc_domain_shutdown a = { .head = XVM_HC_HEAD(0), .domid = domid, .reason = why };

	return xvm_hypercall(h, XVM_HC_DOMAIN_SHUTDOWN, &a);
}

int hvt_guest_action(struct xvm_hv *h, uint32_t domid, enum xvm_hc_shutdown_reason what)
{
	struct xvm_hc_guest_action a = { .head = XVM_HC_HEAD(0), .domid = domid, .action = what };

	return xvm_hypercall(h, XVM_HC_GUEST_ACTION, &a);
}

int hvt_event_poll(struct xvm_hv *h, uint64_t *seq, uint32_t *ids, uint32_t cap, uint32_t *count)
{
	struct xvm_hc_event_poll a = { .head = XVM_HC_HEAD(0), .since_seq = *seq,
				       .capacity = cap, .domids = ids };
	int r = xvm_hypercall(h, XVM_HC_EVENT_POLL, &a);

	*count = a.count;
	if (r == 0)
		*seq = a.seq;
	return r;
}

uint32_t hvt_list_count(struct xvm_hv *h)
{
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0) };
	int r = xvm_hypercall(h, XVM_HC_DOMAIN_LIST, &l);

	cr_assert(r == 0 || r == -ENOBUFS);
	return l.count;
}

int hvt_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct xvm_hc_disk_info hvt_disk_info(struct xvm_hv *h, uint32_t domid, uint32_t position)
{
	struct xvm_hc_disk_info i = { .head = XVM_HC_HEAD(0), .domid = domid, .position = position };
	int r = xvm_hypercall(h, XVM_HC_DISK_GET_INFO, &i);

	cr_assert_eq(r, 0, "disk_get_info %u/%u: %d %s", domid, position, r, xvm_hv_last_error(h));
	return i;
}

int hvt_disk_resize(struct xvm_hv *h, uint32_t domid, uint32_t position, uint64_t size)
{
	struct xvm_hc_disk_resize a = { .head = XVM_HC_HEAD(0), .domid = domid, .position = position,
					.size_bytes = size };

	return xvm_hypercall(h, XVM_HC_DISK_RESIZE, &a);
}

int hvt_disk_snapshot(struct xvm_hv *h, uint32_t domid, uint32_t position, const char *overlay,
		      const char *format)
{
	struct xvm_hc_disk_snapshot a = { .head = XVM_HC_HEAD(0), .domid = domid, .position = position };

	snprintf(a.overlay_path, sizeof a.overlay_path, "%s", overlay);
	snprintf(a.overlay_format, sizeof a.overlay_format, "%s", format);
	return xvm_hypercall(h, XVM_HC_DISK_SNAPSHOT, &a);
}

int hvt_disk_device(struct xvm_hv *h, enum xvm_hc op, uint32_t domid, const struct xvm_hc_disk_config *d)
{
	struct xvm_hc_device a = { .head = XVM_HC_HEAD(0), .domid = domid, .type = XVM_HC_DEV_DISK, .disk = *d };

	return xvm_hypercall(h, op, &a);
}
