/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "storage/qemu_img.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"
#include "core/run.h"
#include "storage/sr_tool.h"

#define QEMU_IMG_MAX_ARGS 32

/* argv for qemu-img with args; argv must hold QEMU_IMG_MAX_ARGS + 2. */
static void make_argv(const char **argv, const char *const *args)
{
	const char *bin = getenv("XVM_QEMU_IMG");
	size_t n = 0;
	argv[n++] = bin && *bin ? bin : "qemu-img";
	for (; args[n - 1] && n <= QEMU_IMG_MAX_ARGS; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
}

/* The last "(12.34/100%)" of the output so far. */
static void watch_progress(const char *out, void *data)
{
	const struct qemu_img_progress *p = data;
	const char *last = strrchr(out, '(');
	double pct;
	if (last && sscanf(last, "(%lf/100%%)", &pct) == 1)
		p->fn(pct / 100, p->data);
}

static int run_qemu_img(const char *what, unsigned timeout_s, char **out, const char *const *args,
			const struct qemu_img_progress *p)
{
	const char *argv[QEMU_IMG_MAX_ARGS + 2];
	make_argv(argv, args);
	struct run_result res;
	int r = p ? run_tool_watched(argv, timeout_s, watch_progress, (void *)p, &res) : run_tool(argv, timeout_s, &res);
	if (r < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, strerror(-r), "%s: cannot run %s: %s", what, argv[0],
			    strerror(-r));
	/* Its messages start "qemu-img: ", whatever binary $XVM_QEMU_IMG names. */
	r = sr_tool_result(what, "qemu-img", &res, out);
	run_result_free(&res);
	return r;
}

int qemu_img_runv(const char *what, unsigned timeout_s, char **out, const char *const *args)
{
	return run_qemu_img(what, timeout_s, out, args, NULL);
}

int qemu_img_run_progress(const char *what, unsigned timeout_s, const char *const *args,
			  const struct qemu_img_progress *p)
{
	return run_qemu_img(what, timeout_s, NULL, args, p);
}

int qemu_img_run_both(const char *what, unsigned timeout_s, const char *const *args1, const char *const *args2)
{
	const char *argv[2][QEMU_IMG_MAX_ARGS + 2];
	make_argv(argv[0], args1);
	make_argv(argv[1], args2);
	const char *const *argvs[] = { argv[0], argv[1] };
	struct run_result res[2];
	int r = run_tools(2, argvs, timeout_s, res);
	if (r < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, strerror(-r), "%s: cannot run %s: %s", what, argv[0][0],
			    strerror(-r));
	r = sr_tool_result(what, "qemu-img", &res[0], NULL);
	if (r == 0)
		r = sr_tool_result(what, "qemu-img", &res[1], NULL);
	run_result_free(&res[0]);
	run_result_free(&res[1]);
	return r;
}

int qemu_img_run(const char *what, unsigned timeout_s, char **out, ...)
{
	const char *args[QEMU_IMG_MAX_ARGS + 1];
	size_t n = 0;
	va_list ap;
	va_start(ap, out);
	for (const char *a; n < QEMU_IMG_MAX_ARGS && (a = va_arg(ap, const char *));)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return qemu_img_runv(what, timeout_s, out, args);
}

int qemu_img_info(const char *path, const char *format, uint64_t *virtual_size, uint64_t *actual_size)
{
	char *out = NULL;
	int r = qemu_img_run("read the image", QEMU_IMG_QUICK, &out, "info", "-f", format, "--output=json", path,
			     (char *)NULL);
	if (r < 0)
		return r;
	struct json_object *info = json_tokener_parse(out), *v;
	free(out);
	if (!info || !json_object_object_get_ex(info, "virtual-size", &v)) {
		json_object_put(info);
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "read the image", path,
			    "qemu-img info gave no size for %s", path);
	}
	*virtual_size = (uint64_t)json_object_get_int64(v);
	if (actual_size)
		*actual_size = json_object_object_get_ex(info, "actual-size", &v) ? (uint64_t)json_object_get_int64(v)
										  : 0;
	json_object_put(info);
	return 0;
}

const char *qemu_img_format(const char *name)
{
	static const char *const names[][2] = {
		{ "raw", "raw" }, { "qcow2", "qcow2" }, { "vhd", "vpc" }, { "vpc", "vpc" }, { "vmdk", "vmdk" },
	};
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}
