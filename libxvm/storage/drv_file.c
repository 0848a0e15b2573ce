/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file SR: a local directory of qcow2 (or raw) images, the default
 * "Local storage" of a host. device_config:location is the directory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error_internal.h"
#include "core/util.h"
#include "storage/imagedir.h"

static const char *const required[] = { "location", NULL };

static int bad_location(struct sr_handle *sr, const char *dir, const char *why)
{
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "location", dir, "SR %s: location %s %s", sr->uuid, dir, why);
}

static int file_open(struct sr_handle *sr)
{
	struct json_object *v;
	json_object_object_get_ex(sr->device_config, "location", &v);
	return imagedir_local_open(sr, json_object_get_string(v));
}

/* The directory must exist (it is made when missing) and hold no images:
 * an existing SR's directory is adopted with sr-introduce and sr-scan. */
static int file_create(struct sr_handle *sr)
{
	struct stat st;
	if (stat(sr->root, &st) == 0 && !S_ISDIR(st.st_mode))
		return bad_location(sr, sr->root, "is not a directory");
	if (mkdir_p(sr->root) < 0)
		return bad_location(sr, sr->root, strerror(errno));
	bool empty;
	int r = imagedir_is_empty(sr, &empty);
	if (r == 0 && !empty)
		r = ERR1(XVM_ERR_SR_DEVICE_IN_USE, sr->root,
			 "%s already holds disk images: use sr-introduce and sr-scan to adopt them", sr->root);
	return r;
}

static int file_attach(struct sr_handle *sr)
{
	struct stat st;
	if (stat(sr->root, &st) < 0)
		return bad_location(sr, sr->root, strerror(errno));
	return S_ISDIR(st.st_mode) ? 0 : bad_location(sr, sr->root, "is not a directory");
}

static int file_destroy(struct sr_handle *sr)
{
	int r = imagedir_remove_all(sr);
	/* Whatever else the user keeps there stays, and so does the directory. */
	if (r == 0)
		rmdir(sr->root);
	return r;
}

const struct sr_driver sr_driver_file = {
	.type = "file",
	.content_type = "user",
	.description = "A local directory of qcow2 or raw images",
	.required_keys = required,
	.caps = SR_CAP_VDI_CREATE | SR_CAP_VDI_RESIZE | SR_CAP_VDI_CLONE | SR_CAP_LOCAL_SPACE,
	.open = file_open,
	.close = imagedir_local_close,
	.create = file_create,
	.attach = file_attach,
	.destroy = file_destroy,
	IMAGEDIR_DRIVER_OPS,
};
