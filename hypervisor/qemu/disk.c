/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Live operations on a running domain's disk: growing it (block_resize on
 * the image on top, which virtio-blk reports to the guest as a config
 * change), an external snapshot (blockdev-snapshot onto an overlay the
 * caller created), and what the disk uses now. The node names are
 * blockdev.c's.
 *
 * The overlay is added with "backing": null, so that QEMU does not open the
 * image in use a second time from the name in the overlay's header (it is
 * locked: QEMU holds it for writing); blockdev-snapshot then puts the overlay
 * on the node in use and reopens that node read-only, which drops its
 * write lock. Before the switch, the overlay's header is checked against
 * the disk, so that the chain a later cold start builds from the headers
 * is the one the guest ran on.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "config_check.h"
#include "image.h"
#include "qemu.h"
#include "qmp.h"
#include "url.h"

static int find_disk(const struct qdom *d, uint32_t position)
{
	for (uint32_t i = 0; i < d->cfg.ndisks; i++)
		if (d->cfg.disks[i].position == position)
			return (int)i;
	xvm_hv_set_error("domain %u has no disk at position %u", d->domid, position);
	return -ENOENT;
}

static bool on_ide(const struct qdom *d, int i)
{
	return hv_disk_on_ide(d->cfg.machine, d->cfg.disks[i].position, d->disks[i].hotplugged);
}

/* The size of disk i's image on top, as the guest sees it. */
static int top_size(const struct qdom *d, struct qmp *q, int i, uint64_t *ret)
{
	struct hv_image img;
	int r = qemu_node_image(q, d->cfg.disks[i].position, d->disks[i].top, &img);

	if (r == 0)
		*ret = img.size;
	return r;
}

static int resize_locked(struct qdom *d, const struct xvm_hc_disk_resize *a)
{
	char node[QEMU_NODE_NAME_MAX];
	struct qmp *q;
	uint64_t size = 0;
	int r = qemu_dom_live(d, &q), i;

	if (r < 0)
		return r;
	i = find_disk(d, a->position);
	if (i < 0)
		r = i;
	/* A CD drive may be empty, so only a disk's size is asked for. */
	else if (d->cfg.disks[i].kind == XVM_HC_DISK)
		r = top_size(d, q, i, &size);
	if (r == 0)
		r = hv_resize_check(d->domid, &d->cfg.disks[i], on_ide(d, i), size, a->size_bytes);
	if (r == 0 && a->size_bytes != size)
		r = qmp_commandf(q, NULL, "block_resize", "{\"node-name\": \"%s\", \"size\": %" PRIu64 "}",
				 qemu_node_name(node, "drv", a->position, d->disks[i].top), a->size_bytes);
	qmp_close(q);
	return r;
}

int qemu_op_disk_resize(void *priv, void *arg)
{
	struct xvm_hc_disk_resize *a = arg;
	struct qdom *d;
	int r = qemu_dom_open_locked(priv, a->domid, &d);

	if (r < 0)
		return r;
	r = resize_locked(d, a);
	qemu_dom_free(d);
	return r;
}

/*
 * Adds the overlay at the next level, checks its header against the disk,
 * and switches the guest to it. A local overlay's header is read before
 * QEMU opens it; one on NFS only QEMU can read, once it has.
 */
static int switch_to_overlay(struct qdom *d, struct qmp *q, int i, const struct xvm_hc_disk_config *ov)
{
	uint32_t pos = ov->position, top = d->disks[i].top;
	char node[QEMU_NODE_NAME_MAX], overlay[QEMU_NODE_NAME_MAX];
	bool remote = hv_path_is_url(ov->path);
	struct hv_image img;
	uint64_t size = 0;
	int r;

	if ((r = top_size(d, q, i, &size)) < 0 ||
	    (!remote && (r = hv_overlay_read_check(&d->cfg.disks[i], size, ov->path, &img)) < 0))
		return r;
	/* Nodes of an attempt that died half-way would make the names taken. */
	qemu_nodes_del(q, pos, top + 1);
	if ((r = qemu_nodes_add(q, ov, top + 1, true)) < 0)
		return r;
	if (!remote || ((r = qemu_node_image(q, pos, top + 1, &img)) == 0 &&
			(r = hv_overlay_check(&d->cfg.disks[i], size, ov->path, &img)) == 0))
		r = qmp_commandf(q, NULL, "blockdev-snapshot", "{\"node\": \"%s\", \"overlay\": \"%s\"}",
				 qemu_node_name(node, "drv", pos, top), qemu_node_name(overlay, "drv", pos, top + 1));
	if (r < 0)
		qemu_nodes_del(q, pos, top + 1);
	return r;
}

static int snapshot_locked(struct qdom *d, const struct xvm_hc_disk_config *ov)
{
	struct qmp *q;
	int r = qemu_dom_live(d, &q), i;

	if (r < 0)
		return r;
	i = find_disk(d, ov->position);
	r = i < 0 ? i : hv_snapshot_check(d->domid, &d->cfg.disks[i], ov);
	if (r == 0)
		r = switch_to_overlay(d, q, i, ov);
	qmp_close(q);
	if (r < 0)
		return r;
	memcpy(d->cfg.disks[i].path, ov->path, sizeof ov->path);
	memcpy(d->cfg.disks[i].format, ov->format, sizeof ov->format);
	d->disks[i].top++;
	if ((r = qemu_dom_store(d)) < 0) {
		char why[XVM_HC_ERROR_MAX];
		snprintf(why, sizeof why, "%s", xvm_hv_last_error(NULL));
		xvm_hv_set_error("domain %u: the guest writes to %s now, but its record could not say so: %s",
				 d->domid, ov->path, why);
	}
	return r;
}

int qemu_op_disk_snapshot(void *priv, void *arg)
{
	struct xvm_hc_disk_snapshot *a = arg;
	struct xvm_hc_disk_config ov;
	struct qdom *d;
	int r;

	if ((r = hv_snapshot_args(a, &ov)) < 0 || (r = qemu_disk_check(&ov)) < 0 ||
	    (r = qemu_dom_open_locked(priv, a->domid, &d)) < 0)
		return r;
	r = snapshot_locked(d, &ov);
	qemu_dom_free(d);
	return r;
}

int qemu_op_disk_get_info(void *priv, void *arg)
{
	struct xvm_hc_disk_info *a = arg, o = { .head = a->head, .domid = a->domid, .position = a->position };
	struct qdom *d = qemu_dom_new();
	struct qmp *q = NULL;
	int r, i;

	if (!d)
		return -ENOMEM;
	if ((r = qemu_dom_load(priv, a->domid, d)) < 0 || (r = qemu_dom_live(d, &q)) < 0)
		goto out;
	if ((i = find_disk(d, a->position)) < 0) {
		r = i;
		goto out;
	}
	o.disk = d->cfg.disks[i];
	o.resize_online = o.disk.kind == XVM_HC_DISK && !o.disk.read_only && !on_ide(d, i);
	if (*o.disk.path)
		r = top_size(d, q, i, &o.size_bytes);
	if (r == 0)
		*a = o;
out:
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}
