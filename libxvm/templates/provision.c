/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The provision spec of other_config:disks: written by the template loader, read by VM.provision. */
#include "templates/provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"
#include "core/util.h"

static int append(char **xml, const char *text)
{
	size_t old = *xml ? strlen(*xml) : 0, add = strlen(text);
	char *n = realloc(*xml, old + add + 1);
	if (!n)
		return error_oom();
	memcpy(n + old, text, add + 1);
	*xml = n;
	return 0;
}

/* An attribute value with &, <, > and " escaped. */
static int append_escaped(char **xml, const char *v)
{
	int r = 0;
	for (const char *c = v; *c && r == 0; c++) {
		char one[2] = { *c, 0 };
		r = append(xml, *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : *c == '"' ? "&quot;" : one);
	}
	return r;
}

/* ` key="value"` when the value is not empty. */
static int append_attr(char **xml, const char *key, const char *value)
{
	int r = 0;
	if (*value && ((r = append(xml, " ")) < 0 || (r = append(xml, key)) < 0 || (r = append(xml, "=\"")) < 0 ||
		       (r = append_escaped(xml, value)) < 0 || (r = append(xml, "\"")) < 0))
		return r;
	return 0;
}

int provision_xml_add(char **xml, const struct provision_item *it)
{
	char head[160];
	int r = *xml ? 0 : append(xml, "<provision>");
	if (r < 0)
		return r;
	if (it->cd) {
		snprintf(head, sizeof(head), "<cd device=\"%d\"/>", it->device);
		return append(xml, head);
	}
	snprintf(head, sizeof(head), "<disk device=\"%d\" size=\"%llu\" sr=\"", it->device, (unsigned long long)it->size);
	if ((r = append(xml, head)) < 0 || (r = append(xml, it->sr)) < 0)
		return r;
	if ((r = append(xml, it->bootable ? "\" bootable=\"true\" type=\"system\"" : "\" bootable=\"false\" type=\"system\"")) < 0)
		return r;
	if ((r = append_attr(xml, "name", it->name)) < 0 || (r = append_attr(xml, "image", it->image)) < 0 ||
	    (*it->image && (r = append_attr(xml, "format", it->format)) < 0))
		return r;
	return append(xml, "/>");
}

int provision_xml_end(char **xml)
{
	int r = *xml ? 0 : append(xml, "<provision>");
	return r < 0 ? r : append(xml, "</provision>");
}

bool provision_image_name_ok(const char *s)
{
	if (!s || !*s || *s == '/' || strlen(s) >= sizeof(((struct provision_item *)0)->image))
		return false;
	for (const char *c = s; c; c = strchr(c, '/'), c = c ? c + 1 : NULL)
		if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == 0))
			return false;
	return true;
}

bool provision_image_format_ok(const char *format)
{
	static const char *const formats[] = { "raw", "qcow2", "vhd", "vmdk" };
	for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++)
		if (strcmp(format, formats[k]) == 0)
			return true;
	return false;
}

static int bad(const char *xml, const char *why)
{
	return ERR2(XVM_ERR_INVALID_VALUE, "other_config:disks", xml, "other_config:disks is not a provision spec: %s", why);
}

/* The value of attribute `name` in the element text [start, end), unescaped into out. */
static bool attr(const char *start, const char *end, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	for (const char *p = start; p + nl + 2 < end; p++) {
		if ((p == start || p[-1] != ' ') || strncmp(p, name, nl) != 0 || p[nl] != '=' || p[nl + 1] != '"')
			continue;
		const char *v = p + nl + 2;
		size_t o = 0;
		while (v < end && *v != '"' && o + 1 < size) {
			static const struct { const char *ent; char c; } ents[] = {
				{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' }
			};
			bool done = false;
			for (size_t k = 0; k < 5 && !done; k++)
				if (*v == '&' && strncmp(v, ents[k].ent, strlen(ents[k].ent)) == 0) {
					out[o++] = ents[k].c;
					v += strlen(ents[k].ent);
					done = true;
				}
			if (!done)
				out[o++] = *v++;
		}
		out[o] = 0;
		return v < end && *v == '"';
	}
	return false;
}

int provision_parse(const char *xml, struct provision_item **items, size_t *n)
{
	struct provision_item *out = NULL;
	size_t count = 0;
	const char *p = strstr(xml, "<provision");
	if (!p)
		return bad(xml, "no <provision> element");
	int r = 0;
	while (r == 0 && (p = strchr(p + 1, '<')) != NULL) {
		bool cd = strncmp(p, "<cd ", 4) == 0, disk = strncmp(p, "<disk ", 6) == 0;
		if (!cd && !disk)
			continue;
		const char *end = strchr(p, '>');
		if (!end) {
			r = bad(xml, "an element is not closed");
			break;
		}
		struct provision_item it = { .cd = cd };
		char v[64];
		int64_t dev, size = 0;
		if (!attr(p, end, "device", v, sizeof(v)) || parse_int64(v, &dev) < 0 || dev < 0 || dev > 15) {
			r = bad(xml, "each element needs a device=\"0..15\"");
			break;
		}
		it.device = (int)dev;
		if (disk) {
			/* Anyone who may write a template's other_config writes this: the image
			 * stays a file of the template image directory. */
			if (!attr(p, end, "image", it.image, sizeof(it.image)))
				it.image[0] = 0;
			else if (!provision_image_name_ok(it.image)) {
				r = bad(xml, "a disk's image is a file under the template image directory (no leading / or ..)");
				break;
			} else if (!attr(p, end, "format", it.format, sizeof(it.format)) ||
				   !provision_image_format_ok(it.format)) {
				r = bad(xml, "a disk made from an image needs its format=\"raw|qcow2|vhd|vmdk\"");
				break;
			}
			/* size="0": as big as the image. */
			if (!attr(p, end, "size", v, sizeof(v)) || parse_int64(v, &size) < 0 || size < 0 ||
			    (size == 0 && !*it.image)) {
				r = bad(xml, "each disk needs a size=\"BYTES\" above 0");
				break;
			}
			it.size = (uint64_t)size;
			if (!attr(p, end, "sr", it.sr, sizeof(it.sr)))
				it.sr[0] = 0;
			else if (*it.sr && !uuid_valid(it.sr)) {
				r = bad(xml, "a disk's sr is an SR's UUID or \"\"");
				break;
			}
			it.bootable = attr(p, end, "bootable", v, sizeof(v)) && strcmp(v, "true") == 0;
			if (!attr(p, end, "name", it.name, sizeof(it.name)))
				it.name[0] = 0;
		}
		struct provision_item *grown = realloc(out, (count + 1) * sizeof(*out));
		if (!grown) {
			r = error_oom();
			break;
		}
		out = grown;
		out[count++] = it;
	}
	if (r < 0) {
		free(out);
		return r;
	}
	*items = out;
	*n = count;
	return 0;
}
