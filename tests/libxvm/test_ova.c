/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OVA export and import on sim:/// with the real file SR: round trips (name,
 * vCPUs, memory, disks with their content, CDs, NICs), compress=true, a
 * foreign plain OVF, the task's progress, and bad input that must leave
 * nothing behind (no VM, no VDI, no staging files, no half OVA).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_common.h"

TestSuite(ova, .init = st_setup, .fini = st_teardown, .timeout = 180);

static char *call_ref(const char *method, struct json_object *args)
{
	struct json_object *res = NULL;
	int r = xvm_call(conn, method, args, &res);
	json_object_put(args);
	cr_assert_eq(r, 0, "%s: %s: %s", method, t_errname(), t_errmsg());
	char *ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return ref;
}

static void add_vbd(const char *vm_ref, const char *vdi, const char *type, const char *pos)
{
	struct json_object *rec = json_object_new_object(), *args = json_object_new_array();
	json_object_object_add(rec, "VM", json_object_new_string(vm_ref));
	json_object_object_add(rec, "VDI", json_object_new_string(vdi ? vdi : "OpaqueRef:NULL"));
	json_object_object_add(rec, "type", json_object_new_string(type));
	json_object_object_add(rec, "mode", json_object_new_string(strcmp(type, "CD") == 0 ? "RO" : "RW"));
	json_object_object_add(rec, "userdevice", json_object_new_string(pos));
	json_object_array_add(args, rec);
	free(call_ref("VBD.create", args));
}

static int export_vm(const char *vm_ref, const char *file, bool compress)
{
	struct json_object *args = json_object_new_array(), *opts = json_object_new_object(), *res = NULL;
	json_object_object_add(opts, "compress", json_object_new_boolean(compress));
	json_object_array_add(args, json_object_new_string(vm_ref));
	json_object_array_add(args, json_object_new_string(file));
	json_object_array_add(args, opts);
	int r = xvm_call(conn, "VM.export_to_file", args, &res);
	json_object_put(args);
	json_object_put(res);
	return r;
}

/* VM.import_from_file into the default SR; the new VM (free()) or NULL on failure (*ret the code). */
static char *import_file(const char *file, bool preserve, int *ret)
{
	struct json_object *args = json_object_new_array(), *opts = json_object_new_object(), *res = NULL;
	json_object_object_add(opts, "preserve", json_object_new_string(preserve ? "true" : "false"));
	json_object_array_add(args, json_object_new_string(file));
	json_object_array_add(args, json_object_new_string("OpaqueRef:NULL"));
	json_object_array_add(args, opts);
	int r = xvm_call(conn, "VM.import_from_file", args, &res);
	json_object_put(args);
	if (ret)
		*ret = r;
	char *ref = NULL;
	if (r == 0) {
		cr_assert_eq(t_len(res), 1);
		ref = strdup(json_object_get_string(json_object_array_get_idx(res, 0)));
	}
	json_object_put(res);
	return ref;
}

static char *import_ok(const char *file, bool preserve)
{
	int r;
	char *ref = import_file(file, preserve, &r);
	cr_assert_eq(r, 0, "import %s: %s: %s", file, t_errname(), t_errmsg());
	return ref;
}

/* The VM's VBD of that type at that position, or NULL. */
static const char *vbd_at(const char *vm_ref, const char *type, const char *pos)
{
	static char found[64];
	struct json_object *vbds = t_get(conn, "VM", vm_ref, "VBDs");
	const char *out = NULL;
	for (size_t i = 0; i < t_len(vbds) && !out; i++) {
		const char *b = json_object_get_string(json_object_array_get_idx(vbds, i));
		if (strcmp(t_gets(conn, "VBD", b, "type"), type) == 0 && strcmp(t_gets(conn, "VBD", b, "userdevice"), pos) == 0) {
			snprintf(found, sizeof(found), "%s", b);
			out = found;
		}
	}
	json_object_put(vbds);
	return out;
}

/* vm1 with 2 vCPUs, 192 MiB, a description, two disks with known bytes, a CD with an ISO and an empty one. */
static void dress_vm(char **d0, char **d1)
{
	T_OK(t_set_int(conn, "VM", vm, "VCPUs_max", 2));
	T_OK(t_set_int(conn, "VM", vm, "VCPUs_at_startup", 2));
	T_OK(t_set_int(conn, "VM", vm, "memory_static_max", 192 * MiB));
	T_OK(t_set_int(conn, "VM", vm, "memory_dynamic_max", 192 * MiB));
	T_OK(t_set_int(conn, "VM", vm, "memory_dynamic_min", 192 * MiB));
	T_OK(t_set_str(conn, "VM", vm, "name_description", "exported & <escaped>"));
	*d0 = st_vdi(conn, local_sr, "system", 8 * MiB, NULL);
	*d1 = st_vdi(conn, local_sr, "data", 4 * MiB, "raw");
	st_write(st_vdi_file(conn, *d0), "qcow2", 0x5a, "0", "1M");
	st_write(st_vdi_file(conn, *d0), "qcow2", 0xc3, "7M", "512k");
	st_write(st_vdi_file(conn, *d1), "raw", 0x11, "1M", "1M");
	add_vbd(vm, *d0, "Disk", "0");
	add_vbd(vm, *d1, "Disk", "1");
	char *iso = st_iso(conn, "install.iso");
	add_vbd(vm, iso, "CD", "3");
	add_vbd(vm, NULL, "CD", "4");
	free(iso);
}

static void check_same_disk(const char *vm_a, const char *vm_b, const char *pos)
{
	const char *a = t_gets(conn, "VBD", vbd_at(vm_a, "Disk", pos), "VDI");
	char *a_file = strdup(st_vdi_file(conn, a));
	const char *b = t_gets(conn, "VBD", vbd_at(vm_b, "Disk", pos), "VDI");
	cr_assert_str_neq(a, b);
	cr_assert_eq(t_geti(conn, "VDI", a, "virtual_size"), t_geti(conn, "VDI", b, "virtual_size"));
	cr_assert_str_eq(t_gets(conn, "VDI", a, "name_label"), t_gets(conn, "VDI", b, "name_label"));
	ST_SH("qemu-img compare -q '%s' '%s'", a_file, st_vdi_file(conn, b));
	free(a_file);
}

static void check_round_trip(const char *copy)
{
	cr_assert_str_eq(t_gets(conn, "VM", copy, "name_label"), "vm1");
	cr_assert_str_eq(t_gets(conn, "VM", copy, "name_description"), "exported & <escaped>");
	cr_assert_eq(t_geti(conn, "VM", copy, "VCPUs_max"), 2);
	cr_assert_eq(t_geti(conn, "VM", copy, "VCPUs_at_startup"), 2);
	cr_assert_eq(t_geti(conn, "VM", copy, "memory_static_max"), 192 * MiB);
	cr_assert_eq(t_geti(conn, "VM", copy, "memory_static_min"), t_geti(conn, "VM", vm, "memory_static_min"));
	static const char *const maps[] = { "platform", "HVM_boot_params", "other_config" };
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct json_object *a = t_get(conn, "VM", copy, maps[i]), *b = t_get(conn, "VM", vm, maps[i]);
		cr_assert(json_object_equal(a, b), "%s differs", maps[i]);
		json_object_put(a);
		json_object_put(b);
	}
	cr_assert_str_eq(t_gets(conn, "VM", copy, "power_state"), "Halted");
	check_same_disk(vm, copy, "0");
	check_same_disk(vm, copy, "1");
	const char *cd = vbd_at(copy, "CD", "3");
	cr_assert_not_null(cd, "no CD drive 3");
	cr_assert_str_eq(t_gets(conn, "VDI", t_gets(conn, "VBD", cd, "VDI"), "name_label"), "install.iso");
	cd = vbd_at(copy, "CD", "4");
	cr_assert_not_null(cd, "no CD drive 4");
	cr_assert(t_getb(conn, "VBD", cd, "empty"));
	struct json_object *vbds = t_get(conn, "VM", copy, "VBDs");
	cr_assert_eq(t_len(vbds), 4);
	json_object_put(vbds);
}

Test(ova, export_then_import_gives_the_vm_back)
{
	char *d0, *d1, *ova, *out = NULL;
	dress_vm(&d0, &d1);
	cr_assert_geq(asprintf(&ova, "%s/vm1.ova", dir), 0);
	T_OK(export_vm(vm, ova, false));
	/* A POSIX tar: descriptor first, the disks, the manifest; no leftovers beside it. */
	cr_assert_eq(st_sh(&out, "tar --list -f '%s'", ova), 0);
	cr_assert_str_eq(out, "vm1.ovf\nvm1-disk1.vmdk\nvm1-disk2.vmdk\nvm1.mf\n", "members: %s", out);
	free(out);
	cr_assert_eq(st_count(dir, "vm1.ova", ""), 1);
	/* Other tools read it: the descriptor is XML, each disk a streamOptimized VMDK qemu-img knows. */
	ST_SH("mkdir '%s/x' && cd '%s/x' && tar xf '%s' && xmllint --noout vm1.ovf && sha256sum -c vm1.mf", dir, dir, ova);
	ST_SH("cd '%s/x' && qemu-img info vm1-disk1.vmdk | grep -q 'create type: streamOptimized'", dir);
	ST_SH("cd '%s/x' && grep -q 'ovf:href=\"vm1-disk1.vmdk\" ovf:id=\"file1\" ovf:size=\"'$(stat -c %%s vm1-disk1.vmdk)'\"' vm1.ovf", dir);
	ST_SH("cd '%s/x' && grep -q '<rasd:ResourceType>15</rasd:ResourceType>' vm1.ovf && grep -q 'ovf:capacity=\"8388608\"' vm1.ovf", dir);
	char *copy = import_ok(ova, false);
	check_round_trip(copy);
	cr_assert_eq(st_count(dir, "import.xvm-", ""), 0, "the staging directory stayed");
	free(copy);
	free(ova);
	free(d0);
	free(d1);
}

Test(ova, compressed_round_trip)
{
	char *d0, *d1, *ova;
	dress_vm(&d0, &d1);
	cr_assert_geq(asprintf(&ova, "%s/vm1.ova", dir), 0);
	T_OK(export_vm(vm, ova, true));
	ST_SH("mkdir '%s/x' && cd '%s/x' && tar xf '%s' && grep -c 'ovf:compression=\"gzip\"' vm1.ovf | grep -qx 2", dir, dir, ova);
	ST_SH("cd '%s/x' && gzip -t vm1-disk1.vmdk && gzip -dc vm1-disk1.vmdk > d1.vmdk && qemu-img info -f vmdk d1.vmdk", dir);
	char *copy = import_ok(ova, false);
	check_round_trip(copy);
	free(copy);
	free(ova);
	free(d0);
	free(d1);
}

/* A descriptor as VirtualBox writes one (OVF 1.0 namespaces, memory in MB, a NIC, no xvm section). */
static const char foreign_ovf[] =
	"<?xml version=\"1.0\"?>\n"
	"<Envelope ovf:version=\"1.0\" xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
	"xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "
	"xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\">\n"
	"<References><File ovf:href=\"box-disk001.vmdk\" ovf:id=\"file1\"/></References>\n"
	"<DiskSection><Info>disks</Info><Disk ovf:capacity=\"%s\" ovf:capacityAllocationUnits=\"byte * 2^20\" "
	"ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\"/></DiskSection>\n"
	"<NetworkSection><Info>nets</Info><Network ovf:name=\"NAT\"/></NetworkSection>\n"
	"<VirtualSystem ovf:id=\"box\"><Info>vm</Info>\n"
	"<OperatingSystemSection ovf:id=\"96\"><Info>os</Info></OperatingSystemSection>\n"
	"<VirtualHardwareSection><Info>hw</Info>\n"
	"<Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>3</rasd:VirtualQuantity></Item>\n"
	"<Item><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID>"
	"<rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>%s</rasd:VirtualQuantity></Item>\n"
	"<Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>20</rasd:ResourceType></Item>\n"
	"<Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource>/disk/vmdisk1</rasd:HostResource>"
	"<rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>\n"
	"<Item><rasd:AddressOnParent>1</rasd:AddressOnParent><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceType>15</rasd:ResourceType></Item>\n"
	"<Item><rasd:Address>0a:00:27:12:34:56</rasd:Address><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>"
	"<rasd:Connection>NAT</rasd:Connection><rasd:InstanceID>6</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>\n"
	"%s"
	"</VirtualHardwareSection></VirtualSystem></Envelope>\n";

/* <dir>/box/box.ovf with a 6 MiB VMDK beside it; capacity, memory and an extra item as given (free()). */
static char *foreign_package(const char *capacity, const char *memory, const char *extra)
{
	char *ovf, *text, raw[4300];
	snprintf(raw, sizeof(raw), "%s/box/raw", dir);
	ST_SH("mkdir -p '%s/box' && qemu-img create -q -f raw '%s' 6M", dir, raw);
	st_write(raw, "raw", 0x77, "2M", "1M");
	ST_SH("qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized '%s' '%s/box/box-disk001.vmdk' && rm '%s'",
	      raw, dir, raw);
	cr_assert_geq(asprintf(&text, foreign_ovf, capacity, memory, extra), 0);
	cr_assert_geq(asprintf(&ovf, "%s/box/box.ovf", dir), 0);
	t_write_file(ovf, text);
	free(text);
	return ovf;
}

static const char *vif_of(const char *vm_ref)
{
	static char ref[64];
	struct json_object *vifs = t_get(conn, "VM", vm_ref, "VIFs");
	cr_assert_eq(t_len(vifs), 1);
	snprintf(ref, sizeof(ref), "%s", t_first(vifs));
	json_object_put(vifs);
	return ref;
}

Test(ova, foreign_ovf_with_a_nic_and_back)
{
	char *ovf = foreign_package("6", "96", "");
	char *box = import_ok(ovf, true);
	cr_assert_str_eq(t_gets(conn, "VM", box, "name_label"), "box");
	cr_assert_eq(t_geti(conn, "VM", box, "VCPUs_max"), 3);
	cr_assert_eq(t_geti(conn, "VM", box, "memory_static_max"), 96 * MiB);
	const char *disk = t_gets(conn, "VBD", vbd_at(box, "Disk", "0"), "VDI");
	cr_assert_eq(t_geti(conn, "VDI", disk, "virtual_size"), 6 * MiB);
	cr_assert(st_reads(st_vdi_file(conn, disk), "qcow2", 0x77, "2M", "1M"));
	cr_assert(t_getb(conn, "VBD", vbd_at(box, "CD", "1"), "empty"));
	const char *vif = vif_of(box);
	cr_assert_str_eq(t_gets(conn, "VIF", vif, "MAC"), "0a:00:27:12:34:56");
	/* The host has no network named NAT: the VIF is on the default network and keeps the name for the next export. */
	struct json_object *nat;
	T_OK(t_call(conn, "network.get_by_name_label", "[\"Host NAT network\"]", &nat));
	cr_assert_str_eq(t_gets(conn, "VIF", vif, "network"), json_object_get_string(json_object_array_get_idx(nat, 0)));
	json_object_put(nat);
	/* Its export names the NIC; an import without preserve makes a new MAC. */
	char *ova;
	cr_assert_geq(asprintf(&ova, "%s/box.ova", dir), 0);
	T_OK(export_vm(box, ova, false));
	ST_SH("tar xOf '%s' box.ovf | grep -q '<rasd:Address>0a:00:27:12:34:56</rasd:Address>'", ova);
	ST_SH("tar xOf '%s' box.ovf | grep -q '<rasd:Connection>NAT</rasd:Connection>'", ova);
	ST_SH("tar xOf '%s' box.ovf | grep -q '<ovf:Network ovf:name=\"NAT\">'", ova);
	char *again = import_ok(ova, false);
	const char *mac = t_gets(conn, "VIF", vif_of(again), "MAC");
	cr_assert_str_neq(mac, "0a:00:27:12:34:56");
	cr_assert_eq(strlen(mac), 17);
	free(again);
	free(box);
	free(ova);
	free(ovf);
}

/* What a failed import must leave as it was. */
struct census {
	size_t vms, vdis, vbds, vifs;
	unsigned sr_files, staging;
};

static size_t count_of(const char *cls)
{
	struct json_object *all = t_all_refs(conn, cls);
	size_t n = t_len(all);
	json_object_put(all);
	return n;
}

static struct census census(void)
{
	return (struct census){ count_of("VM"), count_of("VDI"), count_of("VBD"), count_of("VIF"),
				st_count(local_dir, "", ""), st_count(dir, "import.xvm-", "") };
}

/* The import fails with IMPORT_ERROR whose reason contains `why`, and changes nothing. */
static void import_fails(const char *file, const char *why)
{
	struct census before = census();
	int r;
	char *ref = import_file(file, false, &r);
	cr_assert_null(ref, "the import of %s succeeded", file);
	cr_assert_eq(r, -XVM_ERR_IMPORT_ERROR, "%s: %s: %s", file, t_errname(), t_errmsg());
	cr_assert(strstr(t_errmsg(), why), "'%s' does not say '%s'", t_errmsg(), why);
	struct census after = census();
	cr_assert(memcmp(&before, &after, sizeof(before)) == 0,
		  "left behind: VMs %zu->%zu VDIs %zu->%zu VBDs %zu->%zu files %u->%u staging %u->%u", before.vms,
		  after.vms, before.vdis, after.vdis, before.vbds, after.vbds, before.sr_files, after.sr_files,
		  before.staging, after.staging);
}

Test(ova, bad_descriptors_leave_nothing)
{
	free(foreign_package("6", "96", ""));
	char ovf[4300];
	snprintf(ovf, sizeof(ovf), "%s/box/box.ovf", dir);
	t_write_file(ovf, "<Envelope><References></Envelope>");
	import_fails(ovf, "malformed XML at line 1");
	free(foreign_package("six", "96", ""));
	import_fails(ovf, "capacity 'six'");
	free(foreign_package("6", "96", "<Item><rasd:ElementName>warp drive</rasd:ElementName><rasd:InstanceID>9</rasd:InstanceID>"
				       "<rasd:ResourceType>99</rasd:ResourceType></Item>\n"));
	import_fails(ovf, "'warp drive' has ResourceType 99");
	/* not required: ignored */
	free(foreign_package("6", "96", "<Item ovf:required=\"false\"><rasd:InstanceID>9</rasd:InstanceID>"
				       "<rasd:ResourceType>99</rasd:ResourceType></Item>\n"));
	free(import_ok(ovf, false));
	free(foreign_package("6", "lots", ""));
	import_fails(ovf, "memory item");
}

Test(ova, a_disk_that_fails_midway_takes_the_others_along)
{
	/* Two disks: the first imports, the second is no VMDK: the first must go too. */
	free(foreign_package("6", "96", "<Item><rasd:AddressOnParent>2</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/vmdisk2</rasd:HostResource>"
				       "<rasd:InstanceID>8</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>\n"));
	char ovf[4300];
	snprintf(ovf, sizeof(ovf), "%s/box/box.ovf", dir);
	ST_SH("cd '%s/box' && sed -i 's|</References>|<File ovf:href=\"junk.vmdk\" ovf:id=\"file2\"/></References>|; "
	      "s|</DiskSection>|<Disk ovf:capacity=\"1048576\" ovf:diskId=\"vmdisk2\" ovf:fileRef=\"file2\"/></DiskSection>|' box.ovf "
	      "&& echo junk > junk.vmdk", dir);
	import_fails(ovf, "junk.vmdk");
	ST_SH("rm '%s/box/junk.vmdk'", dir);
	import_fails(ovf, "the package has no file junk.vmdk for disk vmdisk2");
}

/* vm1's OVA, unpacked in <dir>/x: a test changes it and packs it again as <dir>/bad.ova. */
static char *unpacked(void)
{
	char *d0, *d1, *ova, *bad;
	dress_vm(&d0, &d1);
	cr_assert_geq(asprintf(&ova, "%s/vm1.ova", dir), 0);
	cr_assert_geq(asprintf(&bad, "%s/bad.ova", dir), 0);
	T_OK(export_vm(vm, ova, false));
	ST_SH("mkdir '%s/x' && cd '%s/x' && tar xf '%s'", dir, dir, ova);
	free(ova);
	free(d0);
	free(d1);
	return bad;
}

Test(ova, bad_packages_leave_nothing)
{
	char *bad = unpacked();
	ST_SH("cd '%s/x' && tar --format=ustar -cf '%s' vm1.ovf vm1-disk1.vmdk vm1.mf", dir, bad);
	import_fails(bad, "vm1-disk2.vmdk, which the archive does not hold");
	ST_SH("cd '%s/x' && tar --format=ustar -cf '%s' vm1.ovf vm1-disk1.vmdk", dir, bad);
	import_fails(bad, "the package has no file vm1-disk2.vmdk for disk data");
	ST_SH("cd '%s/x' && cp vm1-disk2.vmdk d2 && printf 'Z' | dd of=vm1-disk2.vmdk bs=1 seek=70000 conv=notrunc status=none "
	      "&& tar --format=ustar -cf '%s' vm1.ovf vm1-disk1.vmdk vm1-disk2.vmdk vm1.mf && mv d2 vm1-disk2.vmdk", dir, bad);
	import_fails(bad, "the SHA256 digest of vm1-disk2.vmdk does not match the manifest");
	ST_SH("cd '%s/x' && tar --format=ustar -cf '%s' vm1.ovf vm1-disk1.vmdk vm1-disk2.vmdk vm1.mf && "
	      "truncate -s $(( $(stat -c %%s '%s') / 2 )) '%s'", dir, bad, bad, bad);
	import_fails(bad, "truncated");
	ST_SH("cd '%s/x' && tar --format=ustar -cf '%s' vm1-disk1.vmdk vm1.ovf", dir, bad);
	import_fails(bad, "the first member of the archive is not an .ovf descriptor");
	ST_SH("cd '%s/x' && sed -i 's/\"VCPUs_max\":2/\"VCPUs_max\":\"many\"/' vm1.ovf && "
	      "tar --format=ustar -cf '%s' vm1.ovf vm1-disk1.vmdk vm1-disk2.vmdk", dir, bad);
	import_fails(bad, "xvm's VMSection gives VCPUs_max a value of the wrong type");
	t_write_file(bad, "not a tar at all, just words, more than a few of them, ..............................");
	import_fails(bad, "no tar archive");
	free(bad);
}

Test(ova, a_running_vm_is_not_exported)
{
	char *ova;
	cr_assert_geq(asprintf(&ova, "%s/vm1.ova", dir), 0);
	T_OK(xvm_vm_start(conn, vm, 0));
	T_BAD_POWER(export_vm(vm, ova, false), vm, "halted", "running");
	cr_assert_eq(st_count(dir, "vm1.ova", ""), 0);
	free(ova);
}

Test(ova, an_export_to_a_full_disk_leaves_no_half_ova)
{
	char fs[4300], ova[4400];
	snprintf(fs, sizeof(fs), "%s/fs", dir);
	snprintf(ova, sizeof(ova), "%s/vm1.ova", fs);
	char *d = st_vdi(conn, local_sr, "big", 16 * MiB, NULL);
	ST_SH("head -c 12M /dev/urandom > '%s/rnd' && qemu-io -f qcow2 -c 'write -P 0 0 1' '%s' >/dev/null", dir,
	      st_vdi_file(conn, d));
	ST_SH("qemu-img convert -q -f raw -O qcow2 '%s/rnd' '%s' && rm '%s/rnd'", dir, st_vdi_file(conn, d), dir);
	add_vbd(vm, d, "Disk", "0");
	st_mount_tmpfs(fs, "4m");
	int r = export_vm(vm, ova, false);
	cr_assert_lt(r, 0, "the export fit in 4 MiB");
	cr_assert_str_eq(t_errname(), "SR_BACKEND_FAILURE");
	cr_assert_eq(st_count(fs, "", ""), 0, "files were left in %s", fs);
	/* compressed, too */
	cr_assert_lt(export_vm(vm, ova, true), 0);
	cr_assert_eq(st_count(fs, "", ""), 0, "files were left in %s", fs);
	st_umount(fs);
	free(d);
}

struct bg_export {
	const char *file;
	int r;
};

static void *bg_export(void *data)
{
	struct bg_export *b = data;
	b->r = export_vm(vm, b->file, false);
	return NULL;
}

/* The pending VM.export task's progress, or -1 when there is none. */
static double export_progress(void)
{
	struct json_object *all = NULL, *args = json_object_new_array(), *v;
	T_OK(xvm_call(conn, "task.get_all_records", args, &all));
	json_object_put(args);
	double p = -1;
	json_object_object_foreach(all, ref, rec) {
		(void)ref;
		if (strcmp(json_object_get_string(json_object_object_get(rec, "name_label")), "VM.export") == 0 &&
		    json_object_object_get_ex(rec, "progress", &v))
			p = json_object_get_double(v);
	}
	json_object_put(all);
	return p;
}

Test(ova, the_task_shows_the_progress)
{
	/* A qemu-img that takes its time, so that the export is seen in flight. */
	char wrapper[4300], ova[4300];
	snprintf(wrapper, sizeof(wrapper), "%s/slow-qemu-img", dir);
	snprintf(ova, sizeof(ova), "%s/vm1.ova", dir);
	t_write_file(wrapper, "#!/bin/sh\ncase \"$1\" in convert) sleep 1;; esac\nexec qemu-img \"$@\"\n");
	chmod(wrapper, 0755);
	setenv("XVM_QEMU_IMG", wrapper, 1);
	for (int i = 0; i < 3; i++) {
		char *d = st_vdi(conn, local_sr, "d", 2 * MiB, NULL);
		char pos[4];
		snprintf(pos, sizeof(pos), "%d", i);
		add_vbd(vm, d, "Disk", pos);
		free(d);
	}
	struct bg_export b = { ova, 1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, bg_export, &b), 0);
	double first = -1, last = -1;
	for (int i = 0; i < 200 && (first < 0 || last < 0.5); i++) {
		double p = export_progress();
		if (p >= 0 && first < 0)
			first = p;
		if (p >= 0)
			last = p;
		cr_assert(p < 0 || (p >= 0 && p <= 1));
		usleep(20000);
	}
	pthread_join(t, NULL);
	unsetenv("XVM_QEMU_IMG");
	cr_assert_eq(b.r, 0, "%s", t_errmsg());
	cr_assert_geq(first, 0, "no VM.export task was seen");
	cr_assert_gt(last, first, "the progress stayed at %f", first);
	cr_assert_eq(export_progress(), -1, "the task outlived the export");
}

/* vm1 with an 8 MiB disk, and a qemu-img whose convert says it is half done,
 * then waits; ova gets <dir>/vm1.ova. */
static void half_done_setup(char *ova, size_t size)
{
	char wrapper[4300];
	snprintf(wrapper, sizeof(wrapper), "%s/half-qemu-img", dir);
	snprintf(ova, size, "%s/vm1.ova", dir);
	t_write_file(wrapper, "#!/bin/sh\ncase \"$1\" in convert) printf '    (50.00/100%%)\\r'; sleep 1;; esac\n"
			      "exec qemu-img \"$@\"\n");
	chmod(wrapper, 0755);
	setenv("XVM_QEMU_IMG", wrapper, 1);
	char *d = st_vdi(conn, local_sr, "d", 8 * MiB, NULL);
	add_vbd(vm, d, "Disk", "0");
	free(d);
}

Test(ova, the_progress_follows_qemu_img_within_a_disk)
{
	/* The task says what qemu-img says. */
	char ova[4300];
	half_done_setup(ova, sizeof(ova));
	struct bg_export b = { ova, 1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, bg_export, &b), 0);
	bool half = false;
	for (int i = 0; i < 100 && !half; i++) {
		double p = export_progress();
		/* half of the disk's 80% share */
		half = p > 0.35 && p < 0.45;
		usleep(20000);
	}
	pthread_join(t, NULL);
	unsetenv("XVM_QEMU_IMG");
	cr_assert_eq(b.r, 0, "%s", t_errmsg());
	cr_assert(half, "the task never showed the half-done copy");
}

static struct json_object *task_field(const char *task, const char *field)
{
	char method[64];
	snprintf(method, sizeof(method), "task.get_%s", field);
	struct json_object *args = json_object_new_array(), *res = NULL;
	json_object_array_add(args, json_object_new_string(task));
	int r = xvm_call(conn, method, args, &res);
	json_object_put(args);
	cr_assert_eq(r, 0, "%s: %s: %s", method, t_errname(), t_errmsg());
	return res;
}

/* Polls the task until it is no longer pending; the highest progress seen while it was. */
static double wait_task(const char *task)
{
	double seen = -1;
	for (int i = 0; i < 500; i++) {
		struct json_object *st = task_field(task, "status"), *p = task_field(task, "progress");
		bool pending = strcmp(json_object_get_string(st), "pending") == 0;
		if (pending && json_object_get_double(p) > seen)
			seen = json_object_get_double(p);
		json_object_put(st);
		json_object_put(p);
		if (!pending)
			return seen;
		usleep(20000);
	}
	cr_assert_fail("task %s still pending", task);
	return seen;
}

Test(ova, async_export_and_import_report_through_their_task)
{
	char ova[4300];
	half_done_setup(ova, sizeof(ova));
	struct json_object *args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(vm));
	json_object_array_add(args, json_object_new_string(ova));
	json_object_array_add(args, json_object_new_object());
	char *task = call_ref("Async.VM.export_to_file", args);
	double seen = wait_task(task);
	cr_assert_gt(seen, 0.3, "the pending task showed progress %f", seen);
	struct json_object *v = task_field(task, "status");
	cr_assert_str_eq(json_object_get_string(v), "success");
	json_object_put(v);
	v = task_field(task, "progress");
	cr_assert_eq(json_object_get_double(v), 1.0);
	json_object_put(v);
	v = task_field(task, "name_label");
	cr_assert_str_eq(json_object_get_string(v), "Async.VM.export_to_file");
	json_object_put(v);
	cr_assert_eq(st_count(dir, "vm1.ova", ""), 1);
	free(task);
	/* The import's result is the list of new VMs. */
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(ova));
	json_object_array_add(args, json_object_new_string("OpaqueRef:NULL"));
	json_object_array_add(args, json_object_new_object());
	task = call_ref("Async.VM.import_from_file", args);
	wait_task(task);
	unsetenv("XVM_QEMU_IMG");
	v = task_field(task, "result");
	struct json_object *vms = json_tokener_parse(json_object_get_string(v));
	cr_assert_eq(t_len(vms), 1);
	cr_assert_str_eq(t_gets(conn, "VM", t_first(vms), "name_label"), "vm1");
	json_object_put(vms);
	json_object_put(v);
	free(task);
	/* A failure: the task says why. */
	T_OK(xvm_vm_start(conn, vm, 0));
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(vm));
	json_object_array_add(args, json_object_new_string(ova));
	json_object_array_add(args, json_object_new_object());
	task = call_ref("Async.VM.export_to_file", args);
	wait_task(task);
	v = task_field(task, "status");
	cr_assert_str_eq(json_object_get_string(v), "failure");
	json_object_put(v);
	v = task_field(task, "error_info");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "VM_BAD_POWER_STATE");
	json_object_put(v);
	free(task);
}
