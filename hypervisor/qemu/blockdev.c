/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The block nodes of a disk or CD drive. The image at position N has a
 * protocol node (the file, or the NFS connection) and a format node on it:
 * "fileN" and "drvN" for the image the domain started or was plugged with,
 * "fileN.K" and "drvN.K" for the K-th image put on top of it since (a
 * snapshot overlay, or a CD's new disc). A snapshotted disk is the stack
 * drvN.K -> drvN.(K-1) -> ... -> drvN through the overlays' backing links, so
 * K alone tells which nodes exist; struct qdisk keeps it with the domain.
 *
 * User-given paths go into JSON values, never into QEMU's filename syntax,
 * so that no path is parsed as a protocol ("nfs:", "json:") by accident.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "config_check.h"
#include "qemu.h"
#include "qmp.h"
#include "url.h"

const char *qemu_node_name(char buf[QEMU_NODE_NAME_MAX], const char *kind, uint32_t position, uint32_t level)
{
	if (level)
		snprintf(buf, QEMU_NODE_NAME_MAX, "%s%u.%u", kind, position, level);
	else
		snprintf(buf, QEMU_NODE_NAME_MAX, "%s%u", kind, position);
	return buf;
}

static bool read_only(const struct xvm_hc_disk_config *disk)
{
	return disk->read_only || disk->kind == XVM_HC_CDROM;
}

struct json_object *qemu_disk_file_node(const struct xvm_hc_disk_config *disk, uint32_t level)
{
	struct json_object *o = json_object_new_object();
	struct hv_nfs_url url;
	char name[QEMU_NODE_NAME_MAX];

	/* The path was checked (hv_disk_check): a URL here parses. */
	if (hv_path_is_url(disk->path) && hv_nfs_url_parse("disk", disk->path, &url) == 0) {
		struct json_object *server = json_object_new_object();

		json_object_object_add(server, "type", json_object_new_string("inet"));
		json_object_object_add(server, "host", json_object_new_string(url.host));
		json_object_object_add(o, "driver", json_object_new_string("nfs"));
		json_object_object_add(o, "server", server);
		json_object_object_add(o, "path", json_object_new_string(url.path));
	} else {
		json_object_object_add(o, "driver", json_object_new_string("file"));
		json_object_object_add(o, "filename", json_object_new_string(disk->path));
	}
	json_object_object_add(o, "node-name", json_object_new_string(qemu_node_name(name, "file", disk->position, level)));
	json_object_object_add(o, "read-only", json_object_new_boolean(read_only(disk)));
	return o;
}

struct json_object *qemu_disk_format_node(const struct xvm_hc_disk_config *disk, uint32_t level)
{
	struct json_object *o = json_object_new_object();
	char name[QEMU_NODE_NAME_MAX];

	json_object_object_add(o, "driver", json_object_new_string(*disk->format ? disk->format : "raw"));
	json_object_object_add(o, "file", json_object_new_string(qemu_node_name(name, "file", disk->position, level)));
	json_object_object_add(o, "node-name", json_object_new_string(qemu_node_name(name, "drv", disk->position, level)));
	json_object_object_add(o, "read-only", json_object_new_boolean(read_only(disk)));
	return o;
}

static int blockdev_add(struct qmp *q, struct json_object *o)
{
	int r = qmp_command(q, "blockdev-add", o, NULL);

	json_object_put(o);
	return r;
}

int qemu_nodes_add(struct qmp *q, const struct xvm_hc_disk_config *disk, uint32_t level, bool overlay)
{
	struct json_object *fmt;
	int r = blockdev_add(q, qemu_disk_file_node(disk, level));

	if (r < 0)
		return r;
	fmt = qemu_disk_format_node(disk, level);
	/* An overlay's backing image is the node it goes on, not what its header names. */
	if (overlay)
		json_object_object_add(fmt, "backing", NULL);
	if ((r = blockdev_add(q, fmt)) < 0) {
		char name[QEMU_NODE_NAME_MAX];
		qmp_commandf(q, NULL, "blockdev-del", "{\"node-name\": \"%s\"}",
			     qemu_node_name(name, "file", disk->position, level));
	}
	return r;
}

void qemu_nodes_del(struct qmp *q, uint32_t position, uint32_t level)
{
	char name[QEMU_NODE_NAME_MAX];

	qmp_commandf(q, NULL, "blockdev-del", "{\"node-name\": \"%s\"}", qemu_node_name(name, "drv", position, level));
	qmp_commandf(q, NULL, "blockdev-del", "{\"node-name\": \"%s\"}", qemu_node_name(name, "file", position, level));
}

void qemu_nodes_del_stack(struct qmp *q, uint32_t position, uint32_t top)
{
	/* Top down: a node is busy while an overlay above uses it as backing. */
	for (uint32_t level = top + 1; level-- > 0;)
		qemu_nodes_del(q, position, level);
}

static void copy_str(struct json_object *o, const char *key, char *out, size_t size)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(out, size, "%s", json_object_get_string(v));
}

int qemu_node_image(struct qmp *q, uint32_t position, uint32_t level, struct hv_image *ret)
{
	static struct hv_image zero;
	struct json_object *nodes, *v, *image = NULL;
	char name[QEMU_NODE_NAME_MAX];
	int r = qmp_commandf(q, &nodes, "query-named-block-nodes", "{\"flat\": true}");

	if (r < 0)
		return r;
	qemu_node_name(name, "drv", position, level);
	for (size_t i = 0; i < json_object_array_length(nodes) && !image; i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);
		if (json_object_object_get_ex(n, "node-name", &v) && !strcmp(json_object_get_string(v), name))
			json_object_object_get_ex(n, "image", &image);
	}
	if (image) {
		*ret = zero;
		copy_str(image, "format", ret->format, sizeof ret->format);
		copy_str(image, "backing-filename", ret->backing, sizeof ret->backing);
		copy_str(image, "full-backing-filename", ret->backing, sizeof ret->backing);
		copy_str(image, "backing-filename-format", ret->backing_format, sizeof ret->backing_format);
		if (json_object_object_get_ex(image, "virtual-size", &v))
			ret->size = (uint64_t)json_object_get_int64(v);
	} else {
		xvm_hv_set_error("QEMU has no block node %s", name);
		r = -ENOENT;
	}
	json_object_put(nodes);
	return r;
}
