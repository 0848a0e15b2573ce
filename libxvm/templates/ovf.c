/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "templates/ovf.h"

#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"
#include "core/util.h"

#define OVF_NS "http://schemas.dmtf.org/ovf/envelope/2"
#define RASD_NS "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
#define VSSD_NS "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
#define VMDK_FORMAT "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"

/* CIM ResourceType values (DSP1041). */
enum {
	RT_OTHER = 1, RT_CPU = 3, RT_MEMORY = 4, RT_IDE = 5, RT_SCSI = 6, RT_ETHERNET = 10, RT_FLOPPY = 14,
	RT_CDROM = 15, RT_DVD = 16, RT_DISK = 17, RT_OTHER_STORAGE = 20, RT_USB = 23, RT_GRAPHICS = 24,
	RT_SOUND = 35,
};
#define IDE_ID "3"

/* --- Writing ------------------------------------------------------------------ */

struct writer {
	xmlNsPtr ovf, rasd, vssd, xvm;
	int next_id;
};

static xmlNodePtr child(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	return xmlNewTextChild(parent, ns, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void prop(xmlNodePtr n, xmlNsPtr ns, const char *name, const char *value)
{
	xmlNewNsProp(n, ns, BAD_CAST name, BAD_CAST value);
}

static void prop_u64(xmlNodePtr n, xmlNsPtr ns, const char *name, uint64_t v)
{
	char s[24];
	snprintf(s, sizeof(s), "%" PRIu64, v);
	prop(n, ns, name, s);
}

static xmlNodePtr section(xmlNodePtr parent, xmlNsPtr ovf, const char *name, const char *info)
{
	xmlNodePtr s = child(parent, ovf, name, NULL);
	child(s, ovf, "Info", info);
	return s;
}

/* An Item of the VirtualHardwareSection; the RASD elements go in alphabetical order, as the schema wants. */
static xmlNodePtr item(struct writer *w, xmlNodePtr hw, int type, const char *element_name, int address_on_parent,
		       const char *parent, const char *host_resource, const char *connection)
{
	xmlNodePtr it = child(hw, w->ovf, "Item", NULL);
	char id[16], t[16], a[16];
	snprintf(id, sizeof(id), "%d", w->next_id++);
	snprintf(t, sizeof(t), "%d", type);
	snprintf(a, sizeof(a), "%d", address_on_parent);
	if (address_on_parent >= 0)
		child(it, w->rasd, "AddressOnParent", a);
	if (connection) {
		child(it, w->rasd, "AutomaticAllocation", "true");
		child(it, w->rasd, "Connection", connection);
	}
	child(it, w->rasd, "ElementName", element_name);
	if (host_resource)
		child(it, w->rasd, "HostResource", host_resource);
	child(it, w->rasd, "InstanceID", id);
	if (parent)
		child(it, w->rasd, "Parent", parent);
	child(it, w->rasd, "ResourceType", t);
	return it;
}

static void write_hardware(struct writer *w, xmlNodePtr vs, const struct ovf_vm *vm)
{
	xmlNodePtr hw = section(vs, w->ovf, "VirtualHardwareSection", "Virtual hardware requirements");
	xmlNodePtr sys = child(hw, w->ovf, "System", NULL);
	child(sys, w->vssd, "ElementName", "Virtual Hardware Family");
	child(sys, w->vssd, "InstanceID", "0");
	child(sys, w->vssd, "VirtualSystemIdentifier", vm->name);
	child(sys, w->vssd, "VirtualSystemType", "xvm-1");
	char s[64];
	w->next_id = 1;
	snprintf(s, sizeof(s), "%" PRId64 " virtual CPU(s)", vm->vcpus);
	xmlNodePtr cpu = item(w, hw, RT_CPU, s, -1, NULL, NULL, NULL);
	snprintf(s, sizeof(s), "%" PRId64, vm->vcpus);
	child(cpu, w->rasd, "VirtualQuantity", s);
	/* Whole MiB, as other tools read it; the exact bytes are in xvm's section. */
	snprintf(s, sizeof(s), "%" PRId64 " MB of memory", vm->memory >> 20);
	xmlNodePtr mem = item(w, hw, RT_MEMORY, s, -1, NULL, NULL, NULL);
	xmlNodePtr units = xmlNewTextChild(mem, w->rasd, BAD_CAST "AllocationUnits", BAD_CAST "byte * 2^20");
	xmlUnlinkNode(units);
	xmlAddPrevSibling(mem->children, units);
	snprintf(s, sizeof(s), "%" PRId64, vm->memory >> 20);
	child(mem, w->rasd, "VirtualQuantity", s);
	w->next_id = atoi(IDE_ID);
	item(w, hw, RT_IDE, "IDE controller", 0, NULL, NULL, NULL);
	for (size_t i = 0; i < vm->ndisks; i++) {
		char name[32], res[48];
		snprintf(name, sizeof(name), "Hard disk %zu", i + 1);
		snprintf(res, sizeof(res), "ovf:/disk/vmdisk%zu", i + 1);
		xmlNodePtr d = item(w, hw, RT_DISK, name, vm->disks[i].position, IDE_ID, res, NULL);
		if (vm->disks[i].bootable)
			prop(d, w->xvm, "bootable", "true");
	}
	for (size_t i = 0; i < vm->ncds; i++) {
		char name[32];
		snprintf(name, sizeof(name), "CD-ROM %zu", i + 1);
		xmlNodePtr cd = item(w, hw, RT_CDROM, name, vm->cds[i].position, IDE_ID, NULL, NULL);
		if (vm->cds[i].iso[0])
			prop(cd, w->xvm, "iso", vm->cds[i].iso);
	}
	for (size_t i = 0; i < vm->nnics; i++) {
		char name[32];
		snprintf(name, sizeof(name), "Ethernet %zu", i + 1);
		xmlNodePtr nic = item(w, hw, RT_ETHERNET, name, vm->nics[i].position, NULL, NULL, vm->nics[i].network);
		xmlNodePtr addr = xmlNewTextChild(nic, w->rasd, BAD_CAST "Address", BAD_CAST vm->nics[i].mac);
		xmlUnlinkNode(addr);
		xmlAddPrevSibling(nic->children, addr);
		child(nic, w->rasd, "ResourceSubType", vm->nics[i].e1000 ? "E1000" : "virtio");
	}
}

static void write_references(struct writer *w, xmlNodePtr env, const struct ovf_vm *vm)
{
	xmlNodePtr refs = child(env, w->ovf, "References", NULL);
	xmlNodePtr disks = section(env, w->ovf, "DiskSection", "Virtual disks");
	for (size_t i = 0; i < vm->ndisks; i++) {
		char id[32], disk_id[32];
		snprintf(id, sizeof(id), "file%zu", i + 1);
		snprintf(disk_id, sizeof(disk_id), "vmdisk%zu", i + 1);
		xmlNodePtr f = child(refs, w->ovf, "File", NULL);
		prop(f, w->ovf, "href", vm->disks[i].file);
		prop(f, w->ovf, "id", id);
		prop_u64(f, w->ovf, "size", vm->disks[i].file_size);
		if (vm->disks[i].gzip)
			prop(f, w->ovf, "compression", "gzip");
		xmlNodePtr d = child(disks, w->ovf, "Disk", NULL);
		prop_u64(d, w->ovf, "capacity", vm->disks[i].capacity);
		prop(d, w->ovf, "capacityAllocationUnits", "byte");
		prop(d, w->ovf, "diskId", disk_id);
		prop(d, w->ovf, "fileRef", id);
		prop(d, w->ovf, "format", VMDK_FORMAT);
		prop(d, w->xvm, "name", vm->disks[i].name);
	}
	xmlNodePtr nets = section(env, w->ovf, "NetworkSection", "Logical networks");
	for (size_t i = 0; i < vm->nnics; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= strcmp(vm->nics[k].network, vm->nics[i].network) == 0;
		if (seen)
			continue;
		xmlNodePtr n = child(nets, w->ovf, "Network", NULL);
		prop(n, w->ovf, "name", vm->nics[i].network);
		child(n, w->ovf, "Description", vm->nics[i].network);
	}
}

int ovf_write(const struct ovf_vm *vm, char **xml, size_t *len)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr env = xmlNewNode(NULL, BAD_CAST "Envelope");
	xmlDocSetRootElement(doc, env);
	struct writer w = { 0 };
	xmlNsPtr dflt = xmlNewNs(env, BAD_CAST OVF_NS, NULL);
	xmlSetNs(env, dflt);
	w.ovf = xmlNewNs(env, BAD_CAST OVF_NS, BAD_CAST "ovf");
	w.rasd = xmlNewNs(env, BAD_CAST RASD_NS, BAD_CAST "rasd");
	w.vssd = xmlNewNs(env, BAD_CAST VSSD_NS, BAD_CAST "vssd");
	w.xvm = xmlNewNs(env, BAD_CAST OVF_XVM_NS, BAD_CAST "xvm");
	prop(env, w.ovf, "version", "2.0");
	write_references(&w, env, vm);
	xmlNodePtr vs = child(env, w.ovf, "VirtualSystem", NULL);
	prop(vs, w.ovf, "id", vm->name);
	child(vs, w.ovf, "Info", "A virtual machine");
	child(vs, w.ovf, "Name", vm->name);
	xmlNodePtr ann = section(vs, w.ovf, "AnnotationSection", "A description of the virtual machine");
	child(ann, w.ovf, "Annotation", vm->description);
	xmlNodePtr os = section(vs, w.ovf, "OperatingSystemSection", "The guest operating system");
	prop(os, w.ovf, "id", "1");
	child(os, w.ovf, "Description", "Other");
	write_hardware(&w, vs, vm);
	if (vm->xvm) {
		xmlNodePtr x = child(vs, w.xvm, "VMSection", NULL);
		prop(x, w.ovf, "required", "false");
		child(x, w.ovf, "Info", "xvm's own fields of the VM");
		child(x, w.xvm, "Record", json_object_to_json_string_ext(vm->xvm, JSON_C_TO_STRING_PLAIN));
	}
	xmlChar *out = NULL;
	int n = 0;
	xmlDocDumpFormatMemoryEnc(doc, &out, &n, "UTF-8", 1);
	xmlFreeDoc(doc);
	if (!out)
		return error_oom();
	*xml = strndup((const char *)out, (size_t)n);
	xmlFree(out);
	if (!*xml)
		return error_oom();
	*len = (size_t)n;
	return 0;
}

/* --- Reading ------------------------------------------------------------------ */

static bool is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

static xmlNodePtr first(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* An attribute by its local name, whatever its prefix (ovf: or none, as
 * producers differ). Points into the tree's text: valid while the tree is. */
static const char *attr(xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next)
		if (xmlStrcmp(a->name, BAD_CAST name) == 0 && a->children && a->children->content)
			return (const char *)a->children->content;
	return NULL;
}

/* An element's text (static per call site is not safe: the caller frees). */
static char *text_of(xmlNodePtr n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = strdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

struct parse {
	const char *what;
	xmlNodePtr env, refs, disks;
	struct ovf_vm vm;
};

static int bad(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct parse *p, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return ERR2(XVM_ERR_IMPORT_ERROR, p->what, why, "%s: %s", p->what, why);
}

static int parse_u64(const char *s, uint64_t *v)
{
	int64_t x;
	if (!s || parse_int64(s, &x) < 0 || x < 0)
		return -1;
	*v = (uint64_t)x;
	return 0;
}

/* "byte", "byte * 2^20", "MegaBytes", ...: the multiplier; 0 if unknown. */
static uint64_t unit_multiplier(const char *u)
{
	if (!u || !*u || strcmp(u, "byte") == 0 || strcmp(u, "bytes") == 0)
		return 1;
	static const struct { const char *name; unsigned shift; } words[] = {
		{ "KiloBytes", 10 }, { "MegaBytes", 20 }, { "GigaBytes", 30 }, { "TeraBytes", 40 },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(u, words[i].name) == 0)
			return 1ull << words[i].shift;
	unsigned shift;
	char end;
	if (sscanf(u, "byte * 2^%u%c", &shift, &end) == 1 && shift < 63)
		return 1ull << shift;
	return 0;
}

static int scaled(uint64_t v, uint64_t mult, uint64_t *out)
{
	if (mult == 0 || v > UINT64_MAX / mult || v * mult > INT64_MAX)
		return -1;
	*out = v * mult;
	return 0;
}

static xmlNodePtr find_by_attr(xmlNodePtr parent, const char *name, const char *key, const char *value)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next) {
		const char *v = is(c, name) ? attr(c, key) : NULL;
		if (v && strcmp(v, value) == 0)
			return c;
	}
	return NULL;
}

/* The Disk that `ovf:/disk/ID` names, and its File. */
static int parse_disk(struct parse *p, const char *host_resource, struct ovf_disk *d)
{
	const char *id = host_resource;
	if (strncmp(id, "ovf:/disk/", 10) == 0)
		id += 10;
	else if (strncmp(id, "/disk/", 6) == 0)
		id += 6;
	xmlNodePtr disk = find_by_attr(p->disks, "Disk", "diskId", id);
	if (!disk)
		return bad(p, "disk item names '%s', which the DiskSection does not have", host_resource);
	uint64_t cap, mult = unit_multiplier(attr(disk, "capacityAllocationUnits"));
	if (parse_u64(attr(disk, "capacity"), &cap) < 0 || scaled(cap, mult, &d->capacity) < 0)
		return bad(p, "capacity '%s' (units '%s') of disk %s does not parse",
			   attr(disk, "capacity") ? attr(disk, "capacity") : "", attr(disk, "capacityAllocationUnits")
			   ? attr(disk, "capacityAllocationUnits") : "byte", id);
	const char *ref = attr(disk, "fileRef");
	xmlNodePtr file = ref ? find_by_attr(p->refs, "File", "id", ref) : NULL;
	if (!file || !attr(file, "href"))
		return bad(p, "disk %s has no file in References", id);
	const char *comp = attr(file, "compression");
	if (comp && strcmp(comp, "gzip") != 0 && strcmp(comp, "identity") != 0)
		return bad(p, "file %s has compression '%s': only gzip is known", attr(file, "href"), comp);
	d->gzip = comp && strcmp(comp, "gzip") == 0;
	if (attr(file, "size") && parse_u64(attr(file, "size"), &d->file_size) < 0)
		return bad(p, "size '%s' of file %s does not parse", attr(file, "size"), attr(file, "href"));
	d->file = strdup(attr(file, "href"));
	d->name = strdup(attr(disk, "name") ? attr(disk, "name") : id);
	return d->file && d->name ? 0 : error_oom();
}

static void *grow(void *arr, size_t *n, size_t size)
{
	char *g = realloc(arr, (*n + 1) * size);
	if (g) {
		memset(g + *n * size, 0, size);
		(*n)++;
	}
	return g;
}

static char *rasd(xmlNodePtr it, const char *name)
{
	xmlNodePtr n = first(it, name);
	return n ? text_of(n) : NULL;
}

static int rasd_int(xmlNodePtr it, const char *name, int dflt)
{
	char *s = rasd(it, name);
	int64_t v;
	int out = s && parse_int64(s, &v) == 0 && v >= 0 && v < 1024 ? (int)v : dflt;
	free(s);
	return out;
}

static int parse_item(struct parse *p, xmlNodePtr it)
{
	char *type_s = rasd(it, "ResourceType"), *name = rasd(it, "ElementName");
	int64_t type = -1;
	int r = 0;
	if (!type_s || parse_int64(type_s, &type) < 0)
		r = bad(p, "hardware item '%s' has no valid ResourceType", name ? name : "");
	const char *req = attr(it, "required");
	bool required = !req || strcmp(req, "false") != 0;
	int pos = rasd_int(it, "AddressOnParent", -1);
	if (r == 0 && type == RT_CPU) {
		char *q = rasd(it, "VirtualQuantity");
		if (!q || parse_int64(q, &p->vm.vcpus) < 0 || p->vm.vcpus < 1)
			r = bad(p, "CPU item has no valid VirtualQuantity '%s'", q ? q : "");
		free(q);
	} else if (r == 0 && type == RT_MEMORY) {
		char *q = rasd(it, "VirtualQuantity"), *u = rasd(it, "AllocationUnits");
		uint64_t v, bytes;
		if (parse_u64(q, &v) < 0 || scaled(v, u ? unit_multiplier(u) : 1ull << 20, &bytes) < 0 || bytes == 0)
			r = bad(p, "memory item has quantity '%s' in units '%s', which does not parse", q ? q : "",
				u ? u : "");
		else
			p->vm.memory = (int64_t)bytes;
		free(q);
		free(u);
	} else if (r == 0 && type == RT_DISK) {
		char *res = rasd(it, "HostResource");
		struct ovf_disk *g = res ? grow(p->vm.disks, &p->vm.ndisks, sizeof(*g)) : NULL;
		if (!res)
			r = bad(p, "disk item '%s' has no HostResource", name ? name : "");
		else if (!g)
			r = error_oom();
		else {
			p->vm.disks = g;
			struct ovf_disk *d = &g[p->vm.ndisks - 1];
			d->position = pos;
			d->bootable = attr(it, "bootable") && strcmp(attr(it, "bootable"), "true") == 0;
			r = parse_disk(p, res, d);
		}
		free(res);
	} else if (r == 0 && (type == RT_CDROM || type == RT_DVD)) {
		struct ovf_cd *g = grow(p->vm.cds, &p->vm.ncds, sizeof(*g));
		if (!g)
			r = error_oom();
		else {
			p->vm.cds = g;
			g[p->vm.ncds - 1].position = pos;
			g[p->vm.ncds - 1].iso = strdup(attr(it, "iso") ? attr(it, "iso") : "");
		}
	} else if (r == 0 && type == RT_ETHERNET) {
		struct ovf_nic *g = grow(p->vm.nics, &p->vm.nnics, sizeof(*g));
		if (!g)
			r = error_oom();
		else {
			p->vm.nics = g;
			struct ovf_nic *nic = &g[p->vm.nnics - 1];
			nic->position = pos;
			nic->network = rasd(it, "Connection");
			nic->mac = rasd(it, "Address");
		}
	} else if (r == 0 && required) {
		static const int64_t known[] = { RT_OTHER, RT_IDE, RT_SCSI, RT_FLOPPY, RT_OTHER_STORAGE,
						 RT_USB, RT_GRAPHICS, RT_SOUND };
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= type == known[i];
		if (!ok)
			r = bad(p, "required hardware item '%s' has ResourceType %" PRId64 ", which xvm does not know",
				name ? name : "", type);
	}
	free(type_s);
	free(name);
	return r;
}

static int parse_xvm(struct parse *p, xmlNodePtr vs)
{
	for (xmlNodePtr c = vs->children; c; c = c->next) {
		if (!is(c, "VMSection") || !c->ns || xmlStrcmp(c->ns->href, BAD_CAST OVF_XVM_NS) != 0)
			continue;
		char *rec = text_of(first(c, "Record"));
		p->vm.xvm = rec ? json_tokener_parse(rec) : NULL;
		free(rec);
		if (!p->vm.xvm || !json_object_is_type(p->vm.xvm, json_type_object))
			return bad(p, "xvm's VMSection holds no valid record");
	}
	return 0;
}

static int parse_doc(struct parse *p, xmlDocPtr doc)
{
	p->env = xmlDocGetRootElement(doc);
	if (!p->env || !is(p->env, "Envelope"))
		return bad(p, "the root element is not an OVF Envelope");
	p->refs = first(p->env, "References");
	p->disks = first(p->env, "DiskSection");
	xmlNodePtr vs = first(p->env, "VirtualSystem");
	if (!vs)
		return bad(p, "there is no VirtualSystem (a VirtualSystemCollection is not supported)");
	xmlNodePtr name = first(vs, "Name");
	p->vm.name = name ? text_of(name) : strdup(attr(vs, "id") ? attr(vs, "id") : "");
	p->vm.description = text_of(first(first(vs, "AnnotationSection"), "Annotation"));
	if (!p->vm.name || !p->vm.description)
		return error_oom();
	xmlNodePtr hw = first(vs, "VirtualHardwareSection");
	if (!hw)
		return bad(p, "the VirtualSystem has no VirtualHardwareSection");
	int r = 0;
	for (xmlNodePtr it = hw->children; r == 0 && it; it = it->next)
		if (is(it, "Item") || is(it, "StorageItem") || is(it, "EthernetPortItem"))
			r = parse_item(p, it);
	if (r == 0 && p->vm.vcpus == 0)
		r = bad(p, "the hardware has no CPU item");
	if (r == 0 && p->vm.memory == 0)
		r = bad(p, "the hardware has no memory item");
	return r < 0 ? r : parse_xvm(p, vs);
}

int ovf_parse(const char *what, const char *buf, size_t len, struct ovf_vm *vm)
{
	struct parse p = { .what = what };
	if (len > INT32_MAX)
		return bad(&p, "the descriptor is too large");
	xmlResetLastError();
	/* No network, no entity expansion: a descriptor is untrusted input. */
	xmlDocPtr doc = xmlReadMemory(buf, (int)len, what, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	int r;
	if (!doc) {
		const xmlError *err = xmlGetLastError();
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", err && err->message ? err->message : "unknown error");
		msg[strcspn(msg, "\n")] = 0;
		r = bad(&p, "malformed XML at line %d: %s", err ? err->line : 0, msg);
	} else {
		r = parse_doc(&p, doc);
		xmlFreeDoc(doc);
	}
	if (r < 0) {
		ovf_vm_clear(&p.vm);
		return r;
	}
	*vm = p.vm;
	return 0;
}

void ovf_vm_clear(struct ovf_vm *vm)
{
	for (size_t i = 0; i < vm->ndisks; i++) {
		free(vm->disks[i].file);
		free(vm->disks[i].name);
	}
	for (size_t i = 0; i < vm->ncds; i++)
		free(vm->cds[i].iso);
	for (size_t i = 0; i < vm->nnics; i++) {
		free(vm->nics[i].network);
		free(vm->nics[i].mac);
	}
	free(vm->disks);
	free(vm->cds);
	free(vm->nics);
	free(vm->name);
	free(vm->description);
	json_object_put(vm->xvm);
	memset(vm, 0, sizeof(*vm));
}
