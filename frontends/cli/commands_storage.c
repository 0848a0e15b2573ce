/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The storage commands on SRs, PBDs, VDIs and VBDs (sr-create, pbd-plug,
 * vdi-clone, vbd-create, ...): each is one method call, or a few with the
 * earlier ones undone when a later one fails.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "params.h"
#include "select.h"

int cli_call(struct cli_ctx *ctx, const char *method, struct json_object *args, struct json_object **result)
{
	struct json_object *res = NULL;
	int r = xvm_call(ctx->conn, method, args, &res) < 0 ? cli_api_error() : CLI_EXIT_OK;
	json_object_put(args);
	if (result && r == CLI_EXIT_OK)
		*result = res;
	else
		json_object_put(res);
	return r;
}

struct json_object *cli_args_of(const char *first, ...)
{
	struct json_object *a = json_object_new_array();
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		json_object_array_add(a, json_object_new_string(s));
	va_end(ap);
	return a;
}

void cli_call_quietly(struct cli_ctx *ctx, const char *method, const char *ref)
{
	struct json_object *a = cli_args_of(ref, NULL), *res = NULL;
	xvm_call(ctx->conn, method, a, &res);
	json_object_put(res);
	json_object_put(a);
}

int cli_call_ref(struct cli_ctx *ctx, const char *method, struct json_object *args, char **ref)
{
	struct json_object *res;
	int r = cli_call(ctx, method, args, &res);
	if (r)
		return r;
	*ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return *ref ? CLI_EXIT_OK : cli_fail("out of memory");
}

/* Makes an object with `method` and prints its UUID, as xe does. */
int cli_create_and_print(struct cli_ctx *ctx, const char *method, struct json_object *args, const char *cls)
{
	char *ref;
	int r = cli_call_ref(ctx, method, args, &ref);
	if (r)
		return r;
	r = cli_print_uuid_of(ctx, cls, ref);
	free(ref);
	return r;
}

/* The reference the X-uuid= parameter names, or OpaqueRef:NULL when it is not given. */
static int optional_ref(struct cli_ctx *ctx, const char *cls, const char *param, char **ref)
{
	if (cli_args_get(ctx->args, param))
		return cli_lookup_uuid(ctx, cls, param, ref);
	*ref = strdup("OpaqueRef:NULL");
	return *ref ? CLI_EXIT_OK : cli_fail("out of memory");
}

/* Commands that call one method on the object uuid= names: data is the method. */
int cli_run_on_uuid(struct cli_ctx *ctx)
{
	char *ref;
	int r = cli_lookup_uuid_param(ctx, &ref);
	if (r)
		return r;
	r = cli_call(ctx, ctx->cmd->data, cli_args_of(ref, NULL), NULL);
	free(ref);
	return r;
}

/* --- SR and PBD --------------------------------------------------------------- */

int cli_run_sr_create(struct cli_ctx *ctx)
{
	char *host;
	int r = optional_ref(ctx, "host", "host-uuid", &host);
	if (r)
		return r;
	struct json_object *a = cli_args_of(host, NULL);
	json_object_array_add(a, cli_param_map(ctx, "device-config"));
	json_object_array_add(a, json_object_new_string("0"));
	json_object_array_add(a, json_object_new_string(cli_param_text(ctx, "name-label", "")));
	json_object_array_add(a, json_object_new_string(cli_param_text(ctx, "name-description", "")));
	json_object_array_add(a, json_object_new_string(cli_param_text(ctx, "type", "")));
	json_object_array_add(a, json_object_new_string(cli_param_text(ctx, "content-type", "")));
	json_object_array_add(a, json_object_new_boolean(cli_param_bool(ctx, "shared", false)));
	json_object_array_add(a, cli_param_map(ctx, "sm-config"));
	free(host);
	return cli_create_and_print(ctx, "SR.create", a, "SR");
}

int cli_run_sr_introduce(struct cli_ctx *ctx)
{
	struct json_object *a = cli_args_of(cli_param_text(ctx, "uuid", ""), cli_param_text(ctx, "name-label", ""),
					    cli_param_text(ctx, "name-description", ""), cli_param_text(ctx, "type", ""),
					    cli_param_text(ctx, "content-type", ""), NULL);
	json_object_array_add(a, json_object_new_boolean(cli_param_bool(ctx, "shared", false)));
	json_object_array_add(a, cli_param_map(ctx, "sm-config"));
	return cli_create_and_print(ctx, "SR.introduce", a, "SR");
}

int cli_run_pbd_create(struct cli_ctx *ctx)
{
	char *host, *sr;
	int r = cli_lookup_uuid(ctx, "host", "host-uuid", &host);
	if (r)
		return r;
	if ((r = cli_lookup_uuid(ctx, "SR", "sr-uuid", &sr))) {
		free(host);
		return r;
	}
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "host", json_object_new_string(host));
	json_object_object_add(rec, "SR", json_object_new_string(sr));
	json_object_object_add(rec, "device_config", cli_param_map(ctx, "device-config"));
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, rec);
	free(host);
	free(sr);
	return cli_create_and_print(ctx, "PBD.create", a, "PBD");
}

/* --- VDI ---------------------------------------------------------------------- */

struct json_object *cli_vdi_record(struct cli_ctx *ctx, const char *sr, const char *name_label)
{
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "SR", json_object_new_string(sr));
	json_object_object_add(rec, "name_label", json_object_new_string(name_label));
	json_object_object_add(rec, "name_description",
			       json_object_new_string(cli_param_text(ctx, "name-description", "")));
	json_object_object_add(rec, "sm_config", cli_param_map(ctx, "sm-config"));
	if (cli_args_get(ctx->args, "type"))
		json_object_object_add(rec, "type", json_object_new_string(cli_param_enum(ctx, "type", "user")));
	json_object_object_add(rec, "sharable", json_object_new_boolean(cli_param_bool(ctx, "sharable", false)));
	return rec;
}

int cli_new_vdi(struct cli_ctx *ctx, const char *sr, const char *name_label, int64_t size, char **ref)
{
	struct json_object *rec = cli_vdi_record(ctx, sr, name_label);
	json_object_object_add(rec, "virtual_size", json_object_new_int64(size));
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, rec);
	return cli_call_ref(ctx, "VDI.create", a, ref);
}

int cli_run_vdi_create(struct cli_ctx *ctx)
{
	char *sr, *vdi;
	int r = cli_lookup_uuid(ctx, "SR", "sr-uuid", &sr);
	if (r)
		return r;
	r = cli_new_vdi(ctx, sr, cli_param_text(ctx, "name-label", ""), cli_param_size(ctx, "virtual-size"), &vdi);
	free(sr);
	if (r)
		return r;
	r = cli_print_uuid_of(ctx, "VDI", vdi);
	free(vdi);
	return r;
}

int cli_run_vdi_resize(struct cli_ctx *ctx)
{
	char *ref;
	int r = cli_lookup_uuid_param(ctx, &ref);
	if (r)
		return r;
	struct json_object *a = cli_args_of(ref, NULL);
	json_object_array_add(a, json_object_new_int64(cli_param_size(ctx, "disk-size")));
	free(ref);
	return cli_call(ctx, "VDI.resize", a, NULL);
}

/* vdi-clone, vdi-snapshot: data is the method; clone names the copy with new-name-label=. */
int cli_run_vdi_clone(struct cli_ctx *ctx)
{
	char *ref, *copy;
	int r = cli_lookup_uuid_param(ctx, &ref);
	if (r)
		return r;
	struct json_object *a = cli_args_of(ref, NULL);
	json_object_array_add(a, json_object_new_object());
	free(ref);
	if ((r = cli_call_ref(ctx, ctx->cmd->data, a, &copy)))
		return r;
	static const char *const names[][2] = { { "new-name-label", "name_label" },
						{ "new-name-description", "name_description" } };
	for (size_t i = 0; r == CLI_EXIT_OK && i < sizeof(names) / sizeof(names[0]); i++) {
		const struct cli_param *p = cli_args_get(ctx->args, names[i][0]);
		struct json_object *v = p ? json_object_new_string(p->value) : NULL;
		if (v && xvm_object_set_field(ctx->conn, "VDI", copy, names[i][1], v) < 0) {
			r = cli_api_error();
			cli_call_quietly(ctx, "VDI.destroy", copy);
		}
		json_object_put(v);
	}
	if (r == CLI_EXIT_OK)
		r = cli_print_uuid_of(ctx, "VDI", copy);
	free(copy);
	return r;
}

int cli_run_vdi_copy(struct cli_ctx *ctx)
{
	char *ref, *sr;
	int r = cli_lookup_uuid_param(ctx, &ref);
	if (r)
		return r;
	if ((r = cli_lookup_uuid(ctx, "SR", "sr-uuid", &sr))) {
		free(ref);
		return r;
	}
	r = cli_create_and_print(ctx, "VDI.copy", cli_args_of(ref, sr, NULL), "VDI");
	free(ref);
	free(sr);
	return r;
}

/* The engine may run elsewhere than in this directory: it gets absolute file names. */
static char *absolute(const char *filename)
{
	char cwd[PATH_MAX], *out;
	if (filename[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(filename);
	return asprintf(&out, "%s/%s", cwd, filename) < 0 ? NULL : out;
}

/* VDI.import_from_file / export_to_file of the VDI ref and filename=, format= (raw by default). */
static int file_call(struct cli_ctx *ctx, const char *method, const char *ref)
{
	char *path = absolute(cli_param_text(ctx, "filename", ""));
	if (!path)
		return cli_fail("out of memory");
	int r = cli_call(ctx, method, cli_args_of(ref, path, cli_param_text(ctx, "format", "raw"), NULL), NULL);
	free(path);
	return r;
}

int cli_check_vdi_import(struct cli_ctx *ctx)
{
	int r = cli_check_param_values(ctx);
	bool by_uuid = cli_args_get(ctx->args, "uuid"), into_sr = cli_args_get(ctx->args, "sr-uuid");
	if (r)
		return r;
	if (by_uuid == into_sr)
		return cli_usage(ctx, "give uuid= (an existing disk) or sr-uuid= (a new one)");
	if (by_uuid && (cli_args_get(ctx->args, "virtual-size") || cli_args_get(ctx->args, "name-label")))
		return cli_usage(ctx, "virtual-size= and name-label= are for a new disk (sr-uuid=), not uuid=");
	return CLI_EXIT_OK;
}

/* Into an existing VDI, or into a new one in sr-uuid= (printed), as big as
 * the image or virtual-size=. */
int cli_run_vdi_import(struct cli_ctx *ctx)
{
	char *ref, *sr;
	int r;
	if (cli_args_get(ctx->args, "uuid")) {
		if ((r = cli_lookup_uuid_param(ctx, &ref)))
			return r;
		r = file_call(ctx, "VDI.import_from_file", ref);
		free(ref);
		return r;
	}
	if ((r = cli_lookup_uuid(ctx, "SR", "sr-uuid", &sr)))
		return r;
	const char *file = cli_param_text(ctx, "filename", ""), *base = strrchr(file, '/');
	struct json_object *rec = cli_vdi_record(ctx, sr, cli_param_text(ctx, "name-label", base ? base + 1 : file));
	free(sr);
	if (cli_args_get(ctx->args, "virtual-size"))
		json_object_object_add(rec, "virtual_size", json_object_new_int64(cli_param_size(ctx, "virtual-size")));
	char *path = absolute(file);
	if (!path) {
		json_object_put(rec);
		return cli_fail("out of memory");
	}
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, rec);
	json_object_array_add(a, json_object_new_string(path));
	json_object_array_add(a, json_object_new_string(cli_param_text(ctx, "format", "raw")));
	free(path);
	if ((r = cli_call_ref(ctx, "VDI.create_from_image", a, &ref)))
		return r;
	r = cli_print_uuid_of(ctx, "VDI", ref);
	free(ref);
	return r;
}

int cli_run_vdi_export(struct cli_ctx *ctx)
{
	char *ref;
	int r = cli_lookup_uuid_param(ctx, &ref);
	if (r)
		return r;
	r = file_call(ctx, "VDI.export_to_file", ref);
	free(ref);
	return r;
}

/* --- VBD ---------------------------------------------------------------------- */

int cli_new_vbd(struct cli_ctx *ctx, const char *vm, const char *vdi, const char *type, const char *mode,
		bool bootable, char **ref)
{
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "VM", json_object_new_string(vm));
	json_object_object_add(rec, "VDI", json_object_new_string(vdi));
	json_object_object_add(rec, "userdevice", json_object_new_string(cli_param_text(ctx, "device", "autodetect")));
	json_object_object_add(rec, "type", json_object_new_string(type));
	json_object_object_add(rec, "mode", json_object_new_string(mode));
	json_object_object_add(rec, "bootable", json_object_new_boolean(bootable));
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, rec);
	return cli_call_ref(ctx, "VBD.create", a, ref);
}

int cli_run_vbd_create(struct cli_ctx *ctx)
{
	char *vm, *vdi, *vbd;
	int r = cli_lookup_uuid(ctx, "VM", "vm-uuid", &vm);
	if (r)
		return r;
	if ((r = optional_ref(ctx, "VDI", "vdi-uuid", &vdi))) {
		free(vm);
		return r;
	}
	r = cli_new_vbd(ctx, vm, vdi, cli_param_enum(ctx, "type", "Disk"), cli_param_enum(ctx, "mode", "RW"),
			cli_param_bool(ctx, "bootable", false), &vbd);
	free(vm);
	free(vdi);
	if (r)
		return r;
	r = cli_print_uuid_of(ctx, "VBD", vbd);
	free(vbd);
	return r;
}

int cli_run_vbd_insert(struct cli_ctx *ctx)
{
	char *vbd, *vdi;
	int r = cli_lookup_uuid_param(ctx, &vbd);
	if (r)
		return r;
	if ((r = cli_lookup_uuid(ctx, "VDI", "vdi-uuid", &vdi)) == CLI_EXIT_OK) {
		r = cli_call(ctx, "VBD.insert", cli_args_of(vbd, vdi, NULL), NULL);
		free(vdi);
	}
	free(vbd);
	return r;
}
