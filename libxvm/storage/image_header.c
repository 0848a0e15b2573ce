/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "storage/image_header.h"

#include <string.h>

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int qcow2_header_read(image_pread_fn pread, void *ctx, const char *name, struct qcow2_header *ret)
{
	unsigned char h[32];
	ssize_t n = pread(ctx, name, h, sizeof(h), 0);
	if (n < 0)
		return (int)n;
	if (n < (ssize_t)sizeof(h) || memcmp(h, "QFI\xfb", 4) != 0)
		return 0;
	uint64_t boff = be64(h + 8);
	uint32_t blen = be32(h + 16);
	ret->virtual_size = be64(h + 24);
	ret->backing[0] = 0;
	if (boff && blen) {
		if (blen >= sizeof(ret->backing))
			return 0;
		n = pread(ctx, name, ret->backing, blen, boff);
		if (n < 0)
			return (int)n;
		if (n != (ssize_t)blen)
			return 0;
		ret->backing[blen] = 0;
	}
	return 1;
}

int iso_label_read(image_pread_fn pread, void *ctx, const char *name, char *label, size_t size)
{
	/* The primary volume descriptor: sector 16 of 2048 bytes. */
	unsigned char pvd[80];
	ssize_t n = pread(ctx, name, pvd, sizeof(pvd), 16 * 2048);
	if (n < 0)
		return (int)n;
	if (n < (ssize_t)sizeof(pvd) || pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0)
		return 0;
	size_t len = 32;
	while (len && (pvd[40 + len - 1] == ' ' || pvd[40 + len - 1] == 0))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(label, pvd + 40, len);
	label[len] = 0;
	return 1;
}
