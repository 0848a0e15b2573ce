/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The typed vTPM functions (xvm/vm.h), each one method call. */
#include <stdlib.h>
#include <string.h>

#include "core/api_internal.h"
#include "core/error_internal.h"

int xvm_vtpm_create(xvm_conn *c, const char *vm, bool is_unique, char **ret)
{
	int r;
	if ((r = need(vm, "vm")) < 0 || (r = need(ret, "ret")) < 0)
		return r;
	struct json_object *a = json_object_new_array(), *res = NULL;
	json_object_array_add(a, json_object_new_string(vm));
	json_object_array_add(a, json_object_new_boolean(is_unique));
	if ((r = call_taking(c, "VTPM.create", a, &res)) < 0)
		return r;
	*ret = strdup(json_object_get_string(res));
	json_object_put(res);
	return *ret ? 0 : error_oom();
}

int xvm_vtpm_destroy(xvm_conn *c, const char *vtpm)
{
	int r = need(vtpm, "vtpm");
	return r < 0 ? r : call_strings(c, "VTPM", "destroy", NULL, vtpm, NULL);
}
