/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "storage/sr_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "objects/records.h"
#include "objects/registry.h"

static bool listed(const char *const *keys, const char *k)
{
	for (; keys && *keys; keys++)
		if (strcmp(*keys, k) == 0)
			return true;
	return false;
}

int sr_check_device_config(const struct sr_driver *drv, struct json_object *dc)
{
	for (const char *const *k = drv->required_keys; k && *k; k++) {
		struct json_object *v;
		if (!dc || !json_object_object_get_ex(dc, *k, &v) || !*json_object_get_string(v))
			return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device_config", *k,
				    "an SR of type %s needs device-config:%s", drv->type, *k);
	}
	if (dc) {
		json_object_object_foreach(dc, key, val) {
			(void)val;
			if (!listed(drv->required_keys, key) && !listed(drv->optional_keys, key))
				return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device_config", key,
					    "an SR of type %s takes no device-config:%s", drv->type, key);
		}
	}
	return 0;
}

int sr_handle_open_config(struct engine *e, const char *sr_ref, const char *uuid, const struct sr_driver *drv,
			  struct json_object *device_config, struct json_object *sm_config, struct sr_handle *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->e = e;
	ret->drv = drv;
	snprintf(ret->ref, sizeof(ret->ref), "%s", sr_ref);
	snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid);
	ret->device_config = device_config ? json_object_get(device_config) : json_object_new_object();
	ret->sm_config = sm_config ? json_object_get(sm_config) : json_object_new_object();
	int r = sr_check_device_config(drv, ret->device_config);
	if (r == 0 && drv->open)
		r = drv->open(ret);
	if (r < 0) {
		json_object_put(ret->device_config);
		json_object_put(ret->sm_config);
		memset(ret, 0, sizeof(*ret));
	}
	return r;
}

int sr_host_pbd(struct engine *e, const char *sr_ref, char **ret)
{
	struct json_object *pbds;
	int r = rec_find(e, &class_pbd, "SR", sr_ref, &pbds);
	if (r < 0)
		return r;
	*ret = NULL;
	static const char *const fields[] = { "host", NULL };
	for (size_t i = 0; r == 0 && !*ret && i < json_object_array_length(pbds); i++) {
		const char *pbd = json_object_get_string(json_object_array_get_idx(pbds, i));
		struct json_object *rec = NULL;
		if ((r = rec_read_fields(e, &class_pbd, pbd, fields, &rec)) == 0 &&
		    strcmp(rec_str(rec, "host"), e->host_ref) == 0)
			*ret = strdup(pbd);
		json_object_put(rec);
	}
	json_object_put(pbds);
	return r;
}

int sr_handle_open(struct engine *e, const char *sr_ref, unsigned flags, struct sr_handle *ret)
{
	static const char *const sr_fields[] = { "uuid", "name_label", "type", "sm_config", NULL };
	static const char *const pbd_fields[] = { "device_config", "currently_attached", NULL };
	struct json_object *sr = NULL, *pbd = NULL, *v;
	char *pbd_ref = NULL;
	int r = rec_read_fields(e, &class_sr, sr_ref, sr_fields, &sr);
	if (r < 0)
		return r;
	const struct sr_driver *drv = sr_driver_lookup(rec_str(sr, "type"));
	if (!drv) {
		r = ERR1(XVM_ERR_SR_UNKNOWN_DRIVER, rec_str(sr, "type"), "SR %s has type '%s', which this xvm does not know",
			 rec_str(sr, "name_label"), rec_str(sr, "type"));
		goto out;
	}
	if ((r = sr_host_pbd(e, sr_ref, &pbd_ref)) < 0)
		goto out;
	if (pbd_ref && (r = rec_read_fields(e, &class_pbd, pbd_ref, pbd_fields, &pbd)) < 0)
		goto out;
	if ((flags & SR_OPEN_PLUGGED) && (!pbd || !rec_bool(pbd, "currently_attached"))) {
		r = ERR1(XVM_ERR_SR_HAS_NO_PBDS, sr_ref, "SR %s is not plugged into this host: pbd-plug it first",
			 rec_str(sr, "name_label"));
		goto out;
	}
	json_object_object_get_ex(sr, "sm_config", &v);
	struct json_object *dc = NULL;
	if (pbd)
		json_object_object_get_ex(pbd, "device_config", &dc);
	r = sr_handle_open_config(e, sr_ref, rec_str(sr, "uuid"), drv, dc, v, ret);
out:
	free(pbd_ref);
	json_object_put(sr);
	json_object_put(pbd);
	return r;
}

void sr_handle_close(struct sr_handle *h)
{
	if (!h->drv)
		return;
	if (h->drv->close)
		h->drv->close(h);
	json_object_put(h->device_config);
	json_object_put(h->sm_config);
	memset(h, 0, sizeof(*h));
}

int sr_lock(struct engine *e, const char *sr_uuid)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/sr-%s.lock", e->run_dir, sr_uuid);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ERR1(XVM_ERR_INTERNAL_ERROR, path, "cannot open the SR lock %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = errno;
			close(fd);
			return ERR1(XVM_ERR_INTERNAL_ERROR, path, "cannot lock %s: %s", path, strerror(err));
		}
	}
	return fd;
}

void sr_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
