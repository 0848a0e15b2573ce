/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* template-build: the "Debian 12 (ready to run)" template, from an image
 * build-debian-template.sh makes (or takes from its cache). */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "params.h"
#include "select.h"

extern char **environ;

#define DEBIAN_NAME "Debian 12 (ready to run)"
#define DEBIAN_DESCRIPTION                                                                                   \
	"Debian 12 (bookworm) with systemd: boots to a login on the serial console and tty1 (root, no "       \
	"password); the first boot takes the hostname from the name-label and grows the root filesystem to the " \
	"disk"
#define DEBIAN_MEMORY (512LL << 20)

/* The installed script, else the source tree's (an uninstalled build). */
static const char *build_script(void)
{
	const char *s = getenv("XVM_BUILD_DEBIAN_SCRIPT");
	if (s && *s)
		return s;
	return access(XVM_LIBEXEC_DIR "/build-debian-template.sh", X_OK) == 0
		       ? XVM_LIBEXEC_DIR "/build-debian-template.sh"
		       : XVM_SOURCE_SCRIPT_DIR "/build-debian-template.sh";
}

static int build_image(const char *image)
{
	const char *script = build_script();
	char *argv[] = { (char *)script, (char *)image, NULL };
	pid_t pid;
	int status, r = posix_spawn(&pid, script, NULL, NULL, argv, environ);
	if (r)
		return cli_fail("cannot run %s: %s", script, strerror(r));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return cli_fail("%s failed: no template was made", script);
	return CLI_EXIT_OK;
}

static int set_str(xvm_conn *c, const char *vm, const char *field, const char *v)
{
	struct json_object *j = json_object_new_string(v);
	int r = xvm_object_set_field(c, "VM", vm, field, j);
	json_object_put(j);
	return r;
}

static int set_int(xvm_conn *c, const char *vm, const char *field, int64_t v)
{
	struct json_object *j = json_object_new_int64(v);
	int r = xvm_object_set_field(c, "VM", vm, field, j);
	json_object_put(j);
	return r;
}

/* The new VM becomes the template: xvm-boot, its memory, its disk. */
static int make_template(xvm_conn *c, const char *vm, const char *vdi)
{
	struct json_object *yes = json_object_new_boolean(1);
	char *vbd = NULL;
	int r;
	if ((r = set_str(c, vm, "PV_bootloader", "xvm-boot")) == 0 && (r = set_str(c, vm, "PV_kernel", "")) == 0 &&
	    (r = set_str(c, vm, "PV_args", "")) == 0 && (r = set_str(c, vm, "name_description", DEBIAN_DESCRIPTION)) == 0 &&
	    (r = set_int(c, vm, "memory_static_max", DEBIAN_MEMORY)) == 0 &&
	    (r = set_int(c, vm, "memory_dynamic_max", DEBIAN_MEMORY)) == 0 &&
	    (r = set_int(c, vm, "memory_dynamic_min", DEBIAN_MEMORY)) == 0 &&
	    (r = xvm_vbd_create(c, vm, vdi, "0", "Disk", "RW", true, &vbd)) == 0)
		r = xvm_object_set_field(c, "VM", vm, "is_a_template", yes);
	free(vbd);
	json_object_put(yes);
	return r;
}

static int default_sr(xvm_conn *c, char **sr)
{
	struct json_object *pools, *v = NULL;
	int r = xvm_object_get_all(c, "pool", &pools);
	if (r < 0)
		return r;
	if (json_object_array_length(pools) > 0)
		r = xvm_object_get_field(c, "pool", json_object_get_string(json_object_array_get_idx(pools, 0)),
					 "default_SR", &v);
	json_object_put(pools);
	if (r == 0)
		*sr = strdup(v ? json_object_get_string(v) : "OpaqueRef:NULL");
	json_object_put(v);
	return r;
}

/* Imports the image into a new VDI of sr and makes the template; undoes
 * what it made if a step fails. */
static int import_template(struct cli_ctx *ctx, const char *sr, const char *image, const char *name)
{
	struct stat st;
	char *vdi = NULL, *vm = NULL;
	if (stat(image, &st) < 0)
		return cli_fail("%s: %s", image, strerror(errno));
	if (xvm_vdi_create(ctx->conn, sr, DEBIAN_NAME " root", st.st_size, &vdi) < 0)
		return cli_api_error();
	int r = xvm_vdi_import(ctx->conn, vdi, image, "raw");
	if (r == 0 && (r = xvm_vm_install(ctx->conn, "Direct kernel boot", name, 0, &vm)) == 0 &&
	    (r = make_template(ctx->conn, vm, vdi)) < 0) {
		r = cli_api_error();
		xvm_vm_uninstall(ctx->conn, vm); /* with the disk it owns by now, if any */
		xvm_vdi_destroy(ctx->conn, vdi);
	} else if (r < 0) {
		r = cli_api_error();
		xvm_vdi_destroy(ctx->conn, vdi);
	} else {
		r = cli_print_uuid_of(ctx, "VM", vm);
	}
	free(vdi);
	free(vm);
	return r;
}

int cli_run_template_build(struct cli_ctx *ctx)
{
	const char *name = cli_param_text(ctx, "name-label", DEBIAN_NAME);
	struct json_object *same;
	if (xvm_object_get_by_name_label(ctx->conn, "VM", name, &same) < 0)
		return cli_api_error();
	size_t n = json_object_array_length(same);
	json_object_put(same);
	if (n)
		return cli_fail("a VM or template named '%s' exists already; nothing was made", name);

	char *sr = NULL;
	int r;
	if (cli_args_get(ctx->args, "sr-uuid"))
		r = cli_lookup_uuid(ctx, "SR", "sr-uuid", &sr);
	else
		r = default_sr(ctx->conn, &sr) < 0 ? cli_api_error() : CLI_EXIT_OK;
	if (r)
		return r;
	if (strcmp(sr, "OpaqueRef:NULL") == 0) {
		free(sr);
		return cli_fail("the pool has no default SR: give sr-uuid=");
	}
	const char *image = cli_param_text(ctx, "image", NULL);
	char dir[] = "/var/tmp/xvm-template-build.XXXXXX", path[sizeof(dir) + 32];
	if (!image && !mkdtemp(dir))
		r = cli_fail("cannot make a directory in /var/tmp: %s", strerror(errno));
	if (!image && r == 0) {
		snprintf(path, sizeof(path), "%s/debian-12.raw", dir);
		if ((r = build_image(path)) == 0)
			r = import_template(ctx, sr, path, name);
		unlink(path);
		rmdir(dir);
	} else if (r == 0) {
		r = import_template(ctx, sr, image, name);
	}
	free(sr);
	return r;
}
