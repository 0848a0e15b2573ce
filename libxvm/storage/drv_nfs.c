/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The nfs SR: qcow2 (or raw) images in the directory SERVERPATH/<sr-uuid>
 * of an NFS export (device_config:server, device_config:serverpath), as
 * XenServer lays it out, shared by every host that reaches the server.
 * Nothing is mounted: the directory is read and changed through libnfs
 * (imagedir_nfs.c), and qemu-img and QEMU open the images by nfs:// URL.
 * NFSv3 only (device_config:nfsversion=3), which is what libnfs 4.0 serves.
 */
#include <string.h>

#include "core/error_internal.h"
#include "storage/image_header.h"
#include "storage/imagedir.h"

static const char *const required[] = { "server", "serverpath", NULL };
static const char *const optional[] = { "nfsversion", NULL };

/* The longest name the directory holds, after its "/": a base's temporary file. */
#define LONGEST_NAME_LEN (sizeof("/base-.qcow2.tmp") - 1 + XVM_UUID_BUFLEN - 1)

static const char *config(struct sr_handle *sr, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(sr->device_config, key, &v) ? json_object_get_string(v) : NULL;
}

static int bad_config(struct sr_handle *sr, const char *key, const char *value, const char *why)
{
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, key, value, "SR %s: device-config:%s '%s' %s", sr->uuid, key, value,
		    why);
}

/* A host name or an IPv4 address: what QEMU's nfs:// URLs and libnfs both take. */
static bool valid_server(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-");
	return n && n < 254 && !s[n] && s[0] != '-' && s[0] != '.';
}

static int sr_nfs_open(struct sr_handle *sr)
{
	const char *server = config(sr, "server"), *path = config(sr, "serverpath"), *version = config(sr, "nfsversion");
	if (!valid_server(server))
		return bad_config(sr, "server", server, "is not a host name or an IPv4 address");
	if (path[0] != '/')
		return bad_config(sr, "serverpath", path, "must be an absolute path");
	if (version && strcmp(version, "3") != 0)
		return bad_config(sr, "nfsversion", version, "is not supported: only NFS version 3 is");
	/* The export without trailing slashes, "/" for the root. */
	char export[SR_LOCATION_MAX];
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= sizeof(export))
		return bad_config(sr, "serverpath", path, "is too long");
	memcpy(export, path, n);
	export[n] = 0;
	int r = imagedir_nfs_open(sr, server, export);
	/* qcow2 headers name their backing files by URL (imagedir.h), and image_header reads so much. */
	if (r == 0 && strlen(sr->root) + LONGEST_NAME_LEN >= sizeof(((struct qcow2_header *)0)->backing)) {
		imagedir_nfs_close(sr);
		r = bad_config(sr, "serverpath", path, "is too long for the images' URLs");
	}
	return r;
}

/* The SR's directory, named by its new UUID, is made on the export: an
 * existing SR's directory is adopted with sr-introduce and a PBD instead. */
static int sr_nfs_create(struct sr_handle *sr)
{
	int r = imagedir_nfs_connect(sr);
	return r < 0 ? r : imagedir_nfs_make_dir(sr);
}

static int sr_nfs_attach(struct sr_handle *sr)
{
	int r = imagedir_nfs_connect(sr);
	return r < 0 ? r : imagedir_nfs_check_dir(sr);
}

static int sr_nfs_destroy(struct sr_handle *sr)
{
	int r = imagedir_nfs_connect(sr);
	if (r == 0 && (r = imagedir_remove_all(sr)) == 0)
		/* Whatever else the user keeps there stays, and so does the directory. */
		imagedir_nfs_remove_dir(sr);
	return r;
}

const struct sr_driver sr_driver_nfs = {
	.type = "nfs",
	.content_type = "user",
	.description = "qcow2 or raw images in a directory of an NFS export, shared",
	.required_keys = required,
	.optional_keys = optional,
	.caps = SR_CAP_VDI_CREATE | SR_CAP_VDI_RESIZE | SR_CAP_VDI_CLONE | SR_CAP_SHARED,
	.open = sr_nfs_open,
	.close = imagedir_nfs_close,
	.create = sr_nfs_create,
	.attach = sr_nfs_attach,
	.destroy = sr_nfs_destroy,
	IMAGEDIR_DRIVER_OPS,
};
