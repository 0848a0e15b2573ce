/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "objects/bootstrap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include "boot/xvm_boot.h"
#include "core/engine.h"
#include "core/error_internal.h"
#include "hypercall.h"
#include "network/network.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"
#include "xvm/version.h"

/* The host's management address: its first IPv4 address that is up and not
 * loopback; loopback only for a host with no network. */
static void management_address(char out[INET_ADDRSTRLEN])
{
	struct ifaddrs *list;
	snprintf(out, INET_ADDRSTRLEN, "127.0.0.1");
	if (getifaddrs(&list) < 0)
		return;
	for (struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, INET_ADDRSTRLEN);
		break;
	}
	freeifaddrs(list);
}

static struct json_object *host_fields(struct engine *e, const struct xvm_hc_host_info *info)
{
	struct json_object *h = json_object_new_object();
	json_object_object_add(h, "name_label", json_object_new_string(info->hostname));
	json_object_object_add(h, "hostname", json_object_new_string(info->hostname));
	char address[INET_ADDRSTRLEN];
	management_address(address);
	json_object_object_add(h, "address", json_object_new_string(address));
	struct json_object *cpu = json_object_new_object();
	char n[16];
	snprintf(n, sizeof(n), "%u", info->cpu_count);
	json_object_object_add(cpu, "cpu_count", json_object_new_string(n));
	json_object_object_add(cpu, "modelname", json_object_new_string(info->cpu_model));
	json_object_object_add(h, "cpu_info", cpu);
	struct json_object *sw = json_object_new_object();
	json_object_object_add(sw, "product_brand", json_object_new_string("xvm"));
	json_object_object_add(sw, "product_version", json_object_new_string(xvm_version()));
	json_object_object_add(sw, "hypervisor", json_object_new_string(info->backend));
	json_object_object_add(h, "software_version", sw);
	struct json_object *caps = json_object_new_array();
	if (info->hvm_capable)
		json_object_array_add(caps, json_object_new_string("hvm-3.0-x86_64"));
	if (info->pv_capable)
		json_object_array_add(caps, json_object_new_string("direct-kernel-boot"));
	static const char *const accel[] = { "accel-none", "accel-tcg", "accel-kvm" };
	json_object_array_add(caps, json_object_new_string(accel[info->accel]));
	json_object_object_add(h, "capabilities", caps);
	struct json_object *loaders = json_object_new_array();
	if (info->pv_capable)
		json_object_array_add(loaders, json_object_new_string(XVM_BOOT_NAME));
	json_object_object_add(h, "supported_bootloaders", loaders);
	return h;
}

/* An SR of this host with its PBD, plugged. */
static int add_sr(struct engine *e, const char *name, const char *type, const char *content_type,
		  const char *location, char sr_ref[XVM_REF_BUFLEN])
{
	char pbd_ref[XVM_REF_BUFLEN];
	ref_generate(sr_ref);
	ref_generate(pbd_ref);
	struct json_object *sr = json_object_new_object();
	json_object_object_add(sr, "name_label", json_object_new_string(name));
	json_object_object_add(sr, "type", json_object_new_string(type));
	json_object_object_add(sr, "content_type", json_object_new_string(content_type));
	struct json_object *pbd = json_object_new_object();
	json_object_object_add(pbd, "host", json_object_new_string(e->host_ref));
	json_object_object_add(pbd, "SR", json_object_new_string(sr_ref));
	struct json_object *dc = json_object_new_object();
	json_object_object_add(dc, "location", json_object_new_string(location));
	json_object_object_add(pbd, "device_config", dc);
	json_object_object_add(pbd, "currently_attached", json_object_new_boolean(1));
	int r = rec_insert(e, &class_sr, sr_ref, sr);
	if (r == 0)
		r = rec_insert(e, &class_pbd, pbd_ref, pbd);
	json_object_put(sr);
	json_object_put(pbd);
	return r;
}

static int create_local_sr(struct engine *e, char sr_ref[XVM_REF_BUFLEN])
{
	char *location;
	if (asprintf(&location, "%s/sr/local", e->state_dir) < 0)
		return error_oom();
	int r = mkdir_p(location) < 0 ? ERR1(XVM_ERR_SR_BACKEND_FAILURE, location, "cannot make %s: %s", location,
					      strerror(errno))
				       : add_sr(e, "Local storage", "file", "user", location, sr_ref);
	free(location);
	return r;
}

/* XenServer's "DVD drives", on a host that has any. */
static int create_dvd_sr(struct engine *e)
{
	DIR *dev = opendir("/dev");
	bool any = false;
	for (struct dirent *de; dev && !any && (de = readdir(dev));)
		any = strncmp(de->d_name, "sr", 2) == 0 && de->d_name[2] >= '0' && de->d_name[2] <= '9';
	if (dev)
		closedir(dev);
	char ref[XVM_REF_BUFLEN];
	return any ? add_sr(e, "DVD drives", "udev", "iso", "/dev", ref) : 0;
}

/* Marks in the pool's other_config that the NAT network was made once: a
 * state dir from before networks gets it, and one whose admin destroyed it
 * does not get it back. */
#define NAT_MADE_KEY "xvm_nat_network_made"

static int nat_made(struct engine *e, bool *made)
{
	static const char *const fields[] = { "other_config", NULL };
	struct json_object *rec, *oc;
	int r = rec_read_fields(e, &class_pool, e->pool_ref, fields, &rec);
	if (r == 0) {
		*made = json_object_object_get_ex(rec, "other_config", &oc) &&
			json_object_object_get_ex(oc, NAT_MADE_KEY, NULL);
		json_object_put(rec);
	}
	return r;
}

/* As libvirt's "default": guests reach out through NAT with no root and no host change. */
static int add_nat_network(struct engine *e)
{
	static const char *const fields[] = { "other_config", NULL };
	struct json_object *rec;
	int r = network_create_nat(e);
	if (r == 0 && (r = rec_read_fields(e, &class_pool, e->pool_ref, fields, &rec)) == 0) {
		struct json_object *oc, *ch = json_object_new_object();
		if (!json_object_object_get_ex(rec, "other_config", &oc) || !json_object_is_type(oc, json_type_object))
			oc = NULL;
		struct json_object *map = oc ? json_object_get(oc) : json_object_new_object();
		json_object_object_add(map, NAT_MADE_KEY, json_object_new_string("true"));
		json_object_object_add(ch, "other_config", map);
		r = rec_update(e, &class_pool, e->pool_ref, ch);
		json_object_put(ch);
		json_object_put(rec);
	}
	return r;
}

static int create_pool_and_host(struct engine *e)
{
	struct xvm_hc_host_info info = { .head = XVM_HC_HEAD(0) };
	int r = xvm_hypercall(e->hv, XVM_HC_HOST_INFO, &info);
	if (r < 0)
		return engine_hv_error(e, r, "host info", NULL);
	ref_generate(e->host_ref);
	ref_generate(e->pool_ref);
	struct json_object *h = host_fields(e, &info);
	r = rec_insert(e, &class_host, e->host_ref, h);
	json_object_put(h);
	char sr_ref[XVM_REF_BUFLEN];
	if (r == 0)
		r = create_local_sr(e, sr_ref);
	if (r == 0)
		r = create_dvd_sr(e);
	if (r < 0)
		return r;
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "master", json_object_new_string(e->host_ref));
	json_object_object_add(p, "default_SR", json_object_new_string(sr_ref));
	json_object_object_add(p, "suspend_image_SR", json_object_new_string(sr_ref));
	json_object_object_add(p, "crash_dump_SR", json_object_new_string(sr_ref));
	r = rec_insert(e, &class_pool, e->pool_ref, p);
	json_object_put(p);
	return r < 0 ? r : add_nat_network(e);
}

/* The pool's ref and its master's; 0 with empty refs when there is no pool yet. */
static int find_pool(struct engine *e)
{
	sqlite3_stmt *st = store_stmt(e->store, "SELECT ref, master FROM pool LIMIT 1");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(e->pool_ref, sizeof(e->pool_ref), "%s", sqlite3_column_text(st, 0));
		snprintf(e->host_ref, sizeof(e->host_ref), "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_error(e->store, "find the pool");
}

int bootstrap_host(struct engine *e)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	bool made = false;
	if ((r = find_pool(e)) == 0 && e->pool_ref[0])
		r = nat_made(e, &made);
	store_rollback(e->store);
	if (r < 0 || (e->pool_ref[0] && made))
		return r;
	/* First use (or of networks): another process may be doing the same,
	 * so look again under the write lock. */
	if ((r = store_begin_write(e->store)) < 0)
		return r;
	r = find_pool(e);
	if (r == 0 && !e->pool_ref[0])
		r = create_pool_and_host(e);
	else if (r == 0 && (r = nat_made(e, &made)) == 0 && !made)
		r = add_nat_network(e);
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}
