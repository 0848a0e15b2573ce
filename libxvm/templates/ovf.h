/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The OVF descriptor (DMTF DSP0243, OVF 2.0, as VMware and VirtualBox write
 * it): References/File, DiskSection/Disk, NetworkSection and a VirtualSystem
 * with its OperatingSystemSection and VirtualHardwareSection (CPU, memory,
 * IDE controller, disks, CD-ROMs, ethernet), plus xvm's own section with the
 * VM's fields so that an xvm import gets the VM back exactly.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OVF_XVM_NS "urn:xvm:ovf:1"

struct ovf_disk {
	char *file;          /* the File's href */
	uint64_t file_size;  /* bytes of the file in the package */
	uint64_t capacity;   /* bytes of the disk */
	bool gzip;           /* ovf:compression="gzip" */
	char *name;
	int position;        /* AddressOnParent: the VBD's userdevice */
	bool bootable;
};

struct ovf_cd {
	char *iso;           /* its disc's name; "" for an empty drive */
	int position;
};

struct ovf_nic {
	char *network;
	char *mac;
	int position;
	bool e1000;              /* the VM's platform:nic_model; virtio otherwise */
};

struct ovf_vm {
	char *name, *description;
	int64_t vcpus, memory;   /* memory in bytes */
	struct ovf_disk *disks;
	size_t ndisks;
	struct ovf_cd *cds;
	size_t ncds;
	struct ovf_nic *nics;
	size_t nnics;
	struct json_object *xvm; /* xvm's own VM fields; NULL when the descriptor has none */
};

/* The descriptor of vm: *xml (free()), *len bytes. */
int ovf_write(const struct ovf_vm *vm, char **xml, size_t *len);
/* Reads a descriptor; IMPORT_ERROR [what, reason] naming what is wrong. vm is
 * filled only on success. */
int ovf_parse(const char *what, const char *buf, size_t len, struct ovf_vm *vm);
void ovf_vm_clear(struct ovf_vm *vm);
