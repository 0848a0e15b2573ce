/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xvm's export and import methods: XenAPI moves OVAs over HTTP (/export, /import); xvm reads and writes files. */
#include "core/error_internal.h"
#include "core/methods.h"
#include "templates/ova.h"

static int arg_options(struct json_object *args, size_t i, struct json_object **ret)
{
	struct json_object *v = json_object_array_get_idx(args, i);
	*ret = NULL;
	if (!json_object_is_type(v, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "options", "options must be a map");
	*ret = v;
	return 0;
}

static int m_export(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *vm, *filename;
	struct json_object *options;
	int r;
	if ((r = arg_string(args, 0, "vm", &vm)) < 0 || (r = arg_string(args, 1, "filename", &filename)) < 0 ||
	    (r = arg_options(args, 2, &options)) < 0)
		return r;
	*result = NULL;
	return vm_export_to_file(e, vm, filename, options);
}

static int m_import(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *filename, *sr;
	struct json_object *options;
	int r;
	if ((r = arg_string(args, 0, "filename", &filename)) < 0 || (r = arg_string(args, 1, "sr", &sr)) < 0 ||
	    (r = arg_options(args, 2, &options)) < 0)
		return r;
	return vm_import_from_file(e, filename, sr, options, result);
}

const struct method ova_methods[] = {
	{ "VM.export_to_file", m_export, 3,
	  "xvm: writes a halted VM, template or snapshot to an OVA file: OVF 2.0 descriptor, streamOptimized VMDK "
	  "disks, SHA256 manifest (vm, filename, options: compress=true for gzip-compressed disks, without_vtpm=true "
	  "to export a VM with a vTPM, which the OVA leaves out)" },
	{ "VM.import_from_file", m_import, 3,
	  "xvm: makes a VM from an OVA, or an OVF with its files beside it, its disks in the SR (filename, sr: "
	  "OpaqueRef:NULL for the default SR, options: preserve=true keeps the MAC addresses) -> [VM]" },
	{ NULL },
};
