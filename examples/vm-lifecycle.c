/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Installs a VM from a template, starts it, lists the VMs and removes it.
 *
 *   cc vm-lifecycle.c $(pkg-config --cflags --libs xvm) -o vm-lifecycle
 *   ./vm-lifecycle sim:///tmp/xvm-demo "sim test"
 */
#include <stdio.h>
#include <stdlib.h>
#include <xvm/xvm.h>

static int fail(const char *what)
{
	const struct xvm_error *err = xvm_last_error();
	fprintf(stderr, "%s: %s: %s\n", what, err ? err->name : "?", err ? err->message : "?");
	return 1;
}

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : NULL;
	const char *template_name = argc > 2 ? argv[2] : "sim test";
	xvm_conn *conn;
	if (xvm_connect(uri, 0, &conn) < 0)
		return fail("connect");

	char *vm;
	if (xvm_vm_install(conn, template_name, "example-vm", 0, &vm) < 0)
		return fail("install");
	if (xvm_vm_start(conn, vm, 0) < 0)
		return fail("start");

	struct json_object *records;
	if (xvm_object_get_all_records(conn, "VM", &records) < 0)
		return fail("list");
	json_object_object_foreach(records, ref, rec) {
		if (json_object_get_boolean(json_object_object_get(rec, "is_a_template")))
			continue;
		printf("%s  %-20s %s\n", json_object_get_string(json_object_object_get(rec, "uuid")),
		       json_object_get_string(json_object_object_get(rec, "name_label")),
		       json_object_get_string(json_object_object_get(rec, "power_state")));
		(void)ref;
	}
	json_object_put(records);

	if (xvm_vm_clean_shutdown(conn, vm) < 0)
		return fail("shutdown");
	if (xvm_vm_uninstall(conn, vm) < 0)
		return fail("uninstall");
	free(vm);
	xvm_disconnect(conn);
	return 0;
}
