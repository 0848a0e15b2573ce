/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The typed public functions of VM snapshots (include/xvm/vm.h). */
#include <stdlib.h>
#include <string.h>

#include "core/api_internal.h"
#include "core/error_internal.h"

/* VM.X(ref, new_name) -> VM */
static int copy_call(xvm_conn *c, const char *op, const char *what, const char *ref, const char *new_name,
		     char **ret)
{
	int r;
	if ((r = need(ref, what)) < 0 || (r = need(new_name, "new_name_label")) < 0 || (r = need(ret, "ret")) < 0)
		return r;
	struct json_object *res;
	if ((r = call_strings(c, "VM", op, &res, ref, new_name, NULL)) < 0)
		return r;
	*ret = strdup(json_object_get_string(res));
	json_object_put(res);
	return *ret ? 0 : error_oom();
}

int xvm_vm_snapshot(xvm_conn *c, const char *vm, const char *new_name_label, char **ret)
{
	return copy_call(c, "snapshot", "vm", vm, new_name_label, ret);
}

int xvm_vm_checkpoint(xvm_conn *c, const char *vm, const char *new_name_label, char **ret)
{
	return copy_call(c, "checkpoint", "vm", vm, new_name_label, ret);
}

int xvm_vm_snapshot_export_to_template(xvm_conn *c, const char *snapshot, const char *new_name_label, char **ret)
{
	return copy_call(c, "snapshot_export_to_template", "snapshot", snapshot, new_name_label, ret);
}

int xvm_vm_revert(xvm_conn *c, const char *snapshot)
{
	int r = need(snapshot, "snapshot");
	return r < 0 ? r : call_strings(c, "VM", "revert", NULL, snapshot, NULL);
}
