/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hot-plug of disks and NICs (virtio devices: IDE cannot be hot-plugged;
 * on q35 they go on the PCIe root ports the command line left free),
 * removal (which the guest must consent to: DEVICE_DELETED is awaited,
 * bounded, and a snapshotted disk's whole stack of nodes goes), and
 * changing the disc of a CD drive.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config_check.h"
#include "qemu.h"
#include "qmp.h"

#define DETACH_TIMEOUT_MS 5000

static int find_disk(const struct qdom *d, uint32_t position)
{
	for (uint32_t i = 0; i < d->cfg.ndisks; i++)
		if (d->cfg.disks[i].position == position)
			return (int)i;
	return -1;
}

static int find_nic(const struct qdom *d, uint32_t position)
{
	for (uint32_t i = 0; i < d->cfg.nnics; i++)
		if (d->cfg.nics[i].position == position)
			return (int)i;
	return -1;
}

/* device_add on the first free hot-plug port (q35) or the PCI bus (pc). */
static int device_add(const struct qdom *d, struct qmp *q, struct json_object *dev)
{
	char bus[16];
	int r = -ENOSPC;

	if (!strcmp(d->cfg.machine, "pc"))
		return qmp_command(q, "device_add", dev, NULL);
	for (int i = 0; i < QEMU_HOTPLUG_PORTS && r < 0; i++) {
		snprintf(bus, sizeof bus, "hp%d", i);
		json_object_object_add(dev, "bus", json_object_new_string(bus));
		r = qmp_command(q, "device_add", dev, NULL);
	}
	if (r < 0)
		xvm_hv_set_error("domain %u: no free hot-plug port (it has %d)", d->domid, QEMU_HOTPLUG_PORTS);
	return r;
}

static int attach_disk(struct qdom *d, struct qmp *q, const struct xvm_hc_disk_config *disk)
{
	struct json_object *o;
	int r;

	if (disk->kind == XVM_HC_CDROM) {
		xvm_hv_set_error("a CD drive cannot be hot-plugged (IDE); give the VM one before it starts");
		return -EOPNOTSUPP;
	}
	if (find_disk(d, disk->position) >= 0) {
		xvm_hv_set_error("domain %u already has a disk at position %u", d->domid, disk->position);
		return -EEXIST;
	}
	if (d->cfg.ndisks == XVM_HC_MAX_DISKS) {
		xvm_hv_set_error("domain %u already has %d disks", d->domid, XVM_HC_MAX_DISKS);
		return -ENOSPC;
	}
	if ((r = qemu_nodes_add(q, disk, 0, false)) < 0)
		return r;
	o = qemu_disk_device(d, disk, true);
	r = device_add(d, q, o);
	json_object_put(o);
	if (r < 0) {
		qemu_nodes_del(q, disk->position, 0);
		return r;
	}
	d->disks[d->cfg.ndisks] = (struct qdisk){ .hotplugged = true };
	d->cfg.disks[d->cfg.ndisks++] = *disk;
	return 0;
}

/* The NIC's netdev: a tap we open and hand over, or QEMU's user-mode NAT. */
static int netdev_add(const struct qemu *qm, const struct qdom *d, struct qmp *q, const struct xvm_hc_nic_config *n)
{
	char name[32];
	int fd, r;

	if (!*n->bridge)
		return qmp_commandf(q, NULL, "netdev_add", "{\"type\": \"user\", \"id\": \"net%u\"}", n->position);
	if ((r = qemu_tap_open(qm, d, n, &fd)) < 0)
		return r;
	snprintf(name, sizeof name, "tap%u", n->position);
	r = qmp_getfd(q, name, fd);
	/* QEMU has its own copy, or nothing: ours goes either way. */
	close(fd);
	if (r == 0 && (r = qmp_commandf(q, NULL, "netdev_add", "{\"type\": \"tap\", \"id\": \"net%u\", \"fd\": \"%s\"}",
				       n->position, name)) < 0)
		qmp_commandf(q, NULL, "closefd", "{\"fdname\": \"%s\"}", name);
	if (r < 0)
		qemu_bridges_release(qm, n, 1);
	return r;
}

static int attach_nic(const struct qemu *qm, struct qdom *d, struct qmp *q, const struct xvm_hc_nic_config *n)
{
	struct json_object *o;
	int r;

	if (find_nic(d, n->position) >= 0) {
		xvm_hv_set_error("domain %u already has a nic at position %u", d->domid, n->position);
		return -EEXIST;
	}
	if (d->cfg.nnics == XVM_HC_MAX_NICS) {
		xvm_hv_set_error("domain %u already has %d nics", d->domid, XVM_HC_MAX_NICS);
		return -ENOSPC;
	}
	if ((r = netdev_add(qm, d, q, n)) < 0)
		return r;
	o = qemu_nic_device(n);
	r = device_add(d, q, o);
	json_object_put(o);
	if (r < 0) {
		qmp_commandf(q, NULL, "netdev_del", "{\"id\": \"net%u\"}", n->position);
		qemu_bridges_release(qm, n, 1);
	} else {
		d->cfg.nics[d->cfg.nnics++] = *n;
	}
	return r;
}

int qemu_op_device_attach(void *priv, void *arg)
{
	struct xvm_hc_device *a = arg;
	struct qdom *d;
	struct qmp *q = NULL;
	int r;

	if (a->type == XVM_HC_DEV_DISK)
		r = qemu_disk_check(&a->disk);
	else if (a->type == XVM_HC_DEV_NIC)
		r = hv_nic_check(&a->nic);
	else {
		xvm_hv_set_error("unknown device type %d", (int)a->type);
		return -EINVAL;
	}
	if (r < 0 || (r = qemu_dom_open_locked(priv, a->domid, &d)) < 0)
		return r;
	if ((r = qemu_dom_live(d, &q)) == 0) {
		r = a->type == XVM_HC_DEV_DISK ? attach_disk(d, q, &a->disk) : attach_nic(priv, d, q, &a->nic);
		if (r == 0)
			r = qemu_dom_store(d);
	}
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}

static int remove_device(const struct qdom *d, struct qmp *q, const char *id)
{
	int r = qmp_commandf(q, NULL, "device_del", "{\"id\": \"%s\"}", id);

	if (r == 0)
		r = qmp_wait_event(q, "DEVICE_DELETED", "device", id, DETACH_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		xvm_hv_set_error("domain %u: the guest did not release %s within %d ms "
				 "(a guest without hot-plug support never does)", d->domid, id, DETACH_TIMEOUT_MS);
	return r;
}

int qemu_op_device_detach(void *priv, void *arg)
{
	struct xvm_hc_device *a = arg;
	bool disk = a->type == XVM_HC_DEV_DISK;
	uint32_t pos = disk ? a->disk.position : a->nic.position;
	struct qdom *d;
	struct qmp *q = NULL;
	char id[32];
	int r, i;

	if (a->type != XVM_HC_DEV_DISK && a->type != XVM_HC_DEV_NIC) {
		xvm_hv_set_error("unknown device type %d", (int)a->type);
		return -EINVAL;
	}
	if ((r = qemu_dom_open_locked(priv, a->domid, &d)) < 0)
		return r;
	i = disk ? find_disk(d, pos) : find_nic(d, pos);
	if (i < 0) {
		xvm_hv_set_error("domain %u has no %s at position %u", d->domid, disk ? "disk" : "nic", pos);
		r = -ENOENT;
		goto out;
	}
	if ((r = qemu_dom_live(d, &q)) < 0)
		goto out;
	snprintf(id, sizeof id, "%s%u", disk ? "disk" : "nic", pos);
	if ((r = remove_device(d, q, id)) < 0)
		goto out;
	if (disk) {
		if (*d->cfg.disks[i].path)
			qemu_nodes_del_stack(q, pos, d->disks[i].top);
		memmove(&d->disks[i], &d->disks[i + 1], (d->cfg.ndisks - 1 - i) * sizeof d->disks[0]);
		memmove(&d->cfg.disks[i], &d->cfg.disks[i + 1], (--d->cfg.ndisks - i) * sizeof d->cfg.disks[0]);
	} else {
		struct xvm_hc_nic_config gone = d->cfg.nics[i];
		/* The tap closes with the netdev: its bridge may be empty now. */
		qmp_commandf(q, NULL, "netdev_del", "{\"id\": \"net%u\"}", pos);
		qemu_bridges_release(priv, &gone, 1);
		memmove(&d->cfg.nics[i], &d->cfg.nics[i + 1], (--d->cfg.nnics - i) * sizeof d->cfg.nics[0]);
	}
	r = qemu_dom_store(d);
out:
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}

/* Whether the tray of drive `id` is open now (QMP query-block). */
static bool tray_open(struct qmp *q, const char *id)
{
	struct json_object *blocks = NULL, *v;
	bool open = false;

	if (qmp_command(q, "query-block", NULL, &blocks) < 0)
		return false;
	for (size_t i = 0; i < json_object_array_length(blocks); i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i);
		if (json_object_object_get_ex(b, "qdev", &v) && !strcmp(json_object_get_string(v), id))
			open = json_object_object_get_ex(b, "tray_open", &v) && json_object_get_boolean(v);
	}
	json_object_put(blocks);
	return open;
}

/*
 * Opens the tray (forced: a guest may hold it locked), takes the disc out
 * and puts node in (NULL: none). The guest may close the tray between two
 * of these commands: Linux does as soon as it opens a drive whose tray is
 * open (cdrom autoclose), and a guest that polls its drive opens it often.
 * A step refused on a closed tray is tried again from the start, a few
 * times; QEMU runs each command whole, so the guest cannot win every time.
 */
#define TRAY_ATTEMPTS 5

static int swap_disc(struct qmp *q, const char *id, const char *node)
{
	int r = -EIO;

	for (int attempt = 0; attempt < TRAY_ATTEMPTS && r < 0; attempt++) {
		if (attempt && tray_open(q, id))
			break;                      /* refused for another reason than the guest's close */
		r = qmp_commandf(q, NULL, "blockdev-open-tray", "{\"id\": \"%s\", \"force\": true}", id);
		if (r == 0)
			r = qmp_commandf(q, NULL, "blockdev-remove-medium", "{\"id\": \"%s\"}", id);
		if (r == 0 && node)
			r = qmp_commandf(q, NULL, "blockdev-insert-medium", "{\"id\": \"%s\", \"node-name\": \"%s\"}",
					 id, node);
	}
	return r;
}

/*
 * The new disc's nodes are added first, so that a disc QEMU cannot open
 * (a missing file, an unreachable NFS server) leaves the old one in place;
 * then the old disc goes, the new one goes in, and the tray closes.
 */
static int change_disc(struct qdom *d, struct qmp *q, int i, const struct xvm_hc_disk_config *disc)
{
	const struct xvm_hc_disk_config *old = &d->cfg.disks[i];
	uint32_t pos = disc->position, top = d->disks[i].top, next = top + 1;
	char id[32], node[QEMU_NODE_NAME_MAX];
	int r;

	if (*disc->path && (r = qemu_nodes_add(q, disc, next, false)) < 0)
		return r;
	snprintf(id, sizeof id, "disk%u", pos);
	r = swap_disc(q, id, *disc->path ? qemu_node_name(node, "drv", pos, next) : NULL);
	/* The old disc goes back in: nothing changed. */
	if (r < 0 && *old->path) {
		char why[XVM_HC_ERROR_MAX];
		snprintf(why, sizeof why, "%s", xvm_hv_last_error(NULL));
		swap_disc(q, id, qemu_node_name(node, "drv", pos, top));
		xvm_hv_set_error("%s", why);
	}
	qmp_commandf(q, NULL, "blockdev-close-tray", "{\"id\": \"%s\"}", id);
	if (r < 0) {
		if (*disc->path)
			qemu_nodes_del(q, pos, next);
		return r;
	}
	if (*old->path)
		qemu_nodes_del(q, pos, top);
	d->disks[i].top = next;
	return 0;
}

int qemu_op_media_change(void *priv, void *arg)
{
	struct xvm_hc_media *a = arg;
	struct xvm_hc_disk_config disc = { .kind = XVM_HC_CDROM, .position = a->position, .read_only = true };
	struct qdom *d;
	struct qmp *q = NULL;
	int r, i;

	if (strnlen(a->path, sizeof a->path) == sizeof a->path ||
	    strnlen(a->format, sizeof a->format) == sizeof a->format) {
		xvm_hv_set_error("media path or format is not NUL-terminated");
		return -EINVAL;
	}
	memcpy(disc.path, a->path, sizeof disc.path);
	memcpy(disc.format, a->format, sizeof disc.format);
	if ((r = qemu_disk_check(&disc)) < 0 || (r = qemu_dom_open_locked(priv, a->domid, &d)) < 0)
		return r;
	i = find_disk(d, a->position);
	if (i < 0) {
		xvm_hv_set_error("domain %u has no drive at position %u", d->domid, a->position);
		r = -ENOENT;
		goto out;
	}
	if (d->cfg.disks[i].kind != XVM_HC_CDROM) {
		xvm_hv_set_error("position %u of domain %u is a disk, not a CD drive", a->position, d->domid);
		r = -EINVAL;
		goto out;
	}
	if ((r = qemu_dom_live(d, &q)) < 0 || (r = change_disc(d, q, i, &disc)) < 0)
		goto out;
	memcpy(d->cfg.disks[i].path, disc.path, sizeof disc.path);
	memcpy(d->cfg.disks[i].format, disc.format, sizeof disc.format);
	r = qemu_dom_store(d);
out:
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}
