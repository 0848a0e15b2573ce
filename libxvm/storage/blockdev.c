/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "storage/blockdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error_internal.h"
#include "core/run.h"
#include "storage/sr_tool.h"

#define BLOCKDEV_TOOL_TIMEOUT 60

static int bad_device(struct sr_handle *sr, const char *path, const char *why)
{
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", path, "SR %s: device %s %s", sr->uuid, path, why);
}

const char *blockdev_device(struct sr_handle *sr)
{
	struct json_object *v;
	json_object_object_get_ex(sr->device_config, "device", &v);
	return json_object_get_string(v);
}

int blockdev_check_config(struct sr_handle *sr)
{
	const char *path = blockdev_device(sr);
	return path[0] == '/' ? 0 : bad_device(sr, path, "must be an absolute path");
}

int blockdev_check(struct sr_handle *sr, const char *path, struct stat *ret)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", path, "SR %s: device %s: %s", sr->uuid, path,
			    strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return bad_device(sr, path, "is not a block device");
	if (ret)
		*ret = st;
	return 0;
}

/* One KEY=value line of `blkid -o export` into buf. */
static void export_value(const char *out, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	buf[0] = 0;
	for (const char *line = out; *line; line += strcspn(line, "\n"), line += *line == '\n') {
		size_t len = strcspn(line, "\n");
		if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(buf, size, "%.*s", (int)(len - klen - 1), line + klen + 1);
			return;
		}
	}
}

int blockdev_probe(struct sr_handle *sr, const char *path, struct blockdev_probe *ret)
{
	/* -p: the superblocks themselves, not the cache; exit 2 means nothing found. */
	const char *const argv[] = { "blkid", "-p", "-o", "export", path, NULL };
	struct run_result res;
	int r = run_tool(argv, BLOCKDEV_TOOL_TIMEOUT, &res);
	if (r < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "blkid", strerror(-r), "SR %s: cannot run blkid: %s", sr->uuid,
			    strerror(-r));
	memset(ret, 0, sizeof(*ret));
	if (res.status == 0) {
		export_value(res.out, "TYPE", ret->type, sizeof(ret->type));
		export_value(res.out, "UUID", ret->uuid, sizeof(ret->uuid));
		export_value(res.out, "PTTYPE", ret->pttype, sizeof(ret->pttype));
	} else if (res.status != 2) {
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "blkid", path, "SR %s: blkid cannot probe %s: %s", sr->uuid, path,
			 res.timed_out ? "timed out" : *res.err ? res.err : "it failed");
	}
	run_result_free(&res);
	return r;
}

int blockdev_check_unused(struct sr_handle *sr, const char *path)
{
	int r = blockdev_check(sr, path, NULL);
	if (r < 0)
		return r;
	/* O_EXCL on a block device: EBUSY while it is mounted or held by another device. */
	int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0 && errno == EBUSY)
		return ERR1(XVM_ERR_SR_DEVICE_IN_USE, path, "device %s is in use: it is mounted or held by another device",
			    path);
	if (fd < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", path, "SR %s: cannot open device %s: %s", sr->uuid, path,
			    strerror(errno));
	close(fd);
	struct blockdev_probe p;
	if ((r = blockdev_probe(sr, path, &p)) == 0 && (*p.type || *p.pttype))
		r = ERR1(XVM_ERR_SR_DEVICE_IN_USE, path,
			 "device %s already holds %s (%s): SR.create formats only an empty device "
			 "(wipe it with wipefs -a, or adopt an SR with SR.introduce)",
			 path, *p.type ? "data" : "a partition table", *p.type ? p.type : p.pttype);
	return r;
}

int blockdev_wipe(const char *path)
{
	const char *const argv[] = { "wipefs", "-a", "-q", path, NULL };
	return sr_tool_run("wipe the device", BLOCKDEV_TOOL_TIMEOUT, NULL, argv);
}
