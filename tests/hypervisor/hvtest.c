/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
