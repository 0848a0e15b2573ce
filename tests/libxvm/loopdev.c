/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "loopdev.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static char *vformat(const char *fmt, va_list ap)
{
	char *cmd;
	cr_assert(vasprintf(&cmd, fmt, ap) >= 0);
	return cmd;
}

int t_sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	char *full;
	cr_assert(asprintf(&full, "(%s) >/dev/null 2>&1", cmd) >= 0);
	int st = system(full);
	free(full);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *t_sh_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s: %s", cmd, strerror(errno));
	size_t n;
	char *buf = t_read_stream(p, &n);
	int st = pclose(p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "`%s` failed (%d): %s", cmd, st, buf);
	free(cmd);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

char *t_loop_attach(const char *path, unsigned mib)
{
	cr_assert_eq(t_sh("truncate -s %uM '%s'", mib, path), 0, "cannot make %s", path);
	char *dev = t_sh_out("losetup -f --show '%s'", path);
	cr_assert(dev[0] == '/', "losetup gave '%s'", dev);
	return dev;
}

void t_loop_detach(char *dev)
{
	if (dev)
		t_sh("losetup -d '%s'", dev);
	free(dev);
}

bool t_mounted(const char *path)
{
	return t_sh("mountpoint -q '%s'", path) == 0;
}

void t_umount_under(const char *dir)
{
	/* /proc/self/mounts lists parents before children: unmount in reverse. */
	FILE *f = fopen("/proc/self/mounts", "r");
	if (!f)
		return;
	char *points[64];
	size_t n = 0, len = strlen(dir);
	char line[4096];
	while (n < 64 && fgets(line, sizeof(line), f)) {
		char target[4096];
		if (sscanf(line, "%*s %4095s", target) == 1 && strncmp(target, dir, len) == 0 &&
		    (target[len] == '/' || target[len] == 0))
			points[n++] = strdup(target);
	}
	fclose(f);
	while (n--) {
		umount2(points[n], MNT_DETACH);
		free(points[n]);
	}
}

bool t_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int t_sr_create(xvm_conn *c, const char *type, const char *device_config_json, char **ref)
{
	char args[1024];
	snprintf(args, sizeof(args), "[\"OpaqueRef:NULL\", %s, \"0\", \"sr1\", \"\", \"%s\", \"\", false, {}]",
		 device_config_json, type);
	struct json_object *res = NULL;
	int r = t_call(c, "SR.create", args, &res);
	if (r == 0 && ref)
		*ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return r;
}

int t_sr_create_on(xvm_conn *c, const char *type, const char *device, char **ref)
{
	char dc[512];
	snprintf(dc, sizeof(dc), "{\"device\": \"%s\"}", device);
	return t_sr_create(c, type, dc, ref);
}

char *t_sr_introduce(xvm_conn *c, const char *type, const char *uuid, const char *device, char **sr)
{
	char args[1024];
	snprintf(args, sizeof(args), "[\"%s\", \"adopted\", \"\", \"%s\", \"\", false, {}]", uuid, type);
	struct json_object *res = NULL;
	T_OK(t_call(c, "SR.introduce", args, &res));
	*sr = strdup(json_object_get_string(res));
	json_object_put(res);
	snprintf(args, sizeof(args),
		 "[{\"host\": \"OpaqueRef:NULL\", \"SR\": \"%s\", \"device_config\": {\"device\": \"%s\"}}]", *sr,
		 device);
	T_OK(t_call(c, "PBD.create", args, &res));
	char *pbd = strdup(json_object_get_string(res));
	json_object_put(res);
	return pbd;
}

void t_check_bad_device(xvm_conn *c, const char *type, const char *device, const char *why)
{
	T_ERR(t_sr_create_on(c, type, device, NULL), XVM_ERR_SR_BACKEND_FAILURE, 2, "device", device);
	cr_assert(strstr(t_errmsg(), device) && strstr(t_errmsg(), why), "%s: %s", device, t_errmsg());
}
