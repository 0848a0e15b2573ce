/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disks a template asks for, in xapi's shape: other_config:disks holds
 *   <provision><disk device="0" size="8589934592" sr="" bootable="true" type="system"/></provision>
 * (sr "": the pool's default SR), to which xvm adds a name="..." attribute
 * and image="FILE" format="raw" (a disk made from an image that ships with
 * xvm's templates) and <cd device="3"/> for an empty CD drive. VM.provision
 * reads it.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct provision_item {
	bool cd;            /* a CD drive, else a disk */
	int device;         /* userdevice */
	uint64_t size;      /* disks: bytes */
	char sr[40];        /* disks: an SR's UUID, "" for the default SR */
	bool bootable;
	char name[128];     /* disks: "" for none */
	char image[128];    /* disks: a file of templates_image_dir(), "" for an empty disk */
	char format[8];     /* its format (raw, qcow2, vhd, vmdk) when image is set */
};

/* Appends an item to *xml (a growing "<provision>..." text; NULL to start). */
int provision_xml_add(char **xml, const struct provision_item *it);
/* Closes *xml with "</provision>". */
int provision_xml_end(char **xml);
/* Parses the text: *items (malloc'd) and *n. Bad text: INVALID_VALUE naming other_config:disks. */
int provision_parse(const char *xml, struct provision_item **items, size_t *n);
/* A disk image's name: a file under the template image directory, which
 * neither leaves it (no ".." component) nor names it absolutely. */
bool provision_image_name_ok(const char *name);
/* An image format a template may name: raw, qcow2, vhd, vmdk. */
bool provision_image_format_ok(const char *format);
