/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "boot/boot_fs.h"

#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct boot_fs {
	ext2_filsys fs;
};

struct channel_data {
	const struct boot_image *img;
	uint64_t base;   /* the filesystem's byte offset on the disk */
};

#define SECTOR 512
#define EXT_MAGIC_OFFSET (1024 + 56)
#define MBR_TYPE_GPT 0xee

static errcode_t ch_open(const char *name, int flags, io_channel *channel);

static errcode_t ch_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	free(ch->private_data);
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t ch_set_blksize(io_channel ch, int blksize)
{
	ch->block_size = blksize;
	return 0;
}

static errcode_t ch_read64(io_channel ch, unsigned long long block, int count, void *data)
{
	struct channel_data *d = ch->private_data;
	size_t len = count < 0 ? (size_t)-count : (size_t)count * (size_t)ch->block_size;
	int r = boot_image_read(d->img, data, len, d->base + block * (uint64_t)ch->block_size);
	return r == -EIO ? EXT2_ET_SHORT_READ : (errcode_t)-r;
}

static errcode_t ch_read(io_channel ch, unsigned long block, int count, void *data)
{
	return ch_read64(ch, block, count, data);
}

static errcode_t ch_write(io_channel ch, unsigned long block, int count, const void *data)
{
	(void)ch, (void)block, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t ch_write64(io_channel ch, unsigned long long block, int count, const void *data)
{
	(void)ch, (void)block, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t ch_flush(io_channel ch)
{
	(void)ch;
	return 0;
}

static struct struct_io_manager boot_io_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "xvm-boot",
	.open = ch_open,
	.close = ch_close,
	.set_blksize = ch_set_blksize,
	.read_blk = ch_read,
	.write_blk = ch_write,
	.flush = ch_flush,
	.read_blk64 = ch_read64,
	.write_blk64 = ch_write64,
};

/* libext2fs hands an io_manager only a name: ours carries the address of a
 * channel_data that boot_fs_open keeps alive for the call. */
static errcode_t ch_open(const char *name, int flags, io_channel *channel)
{
	(void)flags;
	const struct channel_data *src;
	if (sscanf(name, "xvm-boot:%p", (void **)&src) != 1)
		return EXT2_ET_BAD_DEVICE_NAME;
	io_channel ch = calloc(1, sizeof(*ch));
	struct channel_data *d = malloc(sizeof(*d));
	char *copy = strdup(name);
	if (!ch || !d || !copy) {
		free(ch), free(d), free(copy);
		return EXT2_ET_NO_MEMORY;
	}
	*d = *src;
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &boot_io_manager;
	ch->name = copy;
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->private_data = d;
	*channel = ch;
	return 0;
}

static int has_ext_magic(const struct boot_image *img, uint64_t base)
{
	unsigned char m[2];
	return boot_image_read(img, m, 2, base + EXT_MAGIC_OFFSET) == 0 && m[0] == 0x53 && m[1] == 0xef;
}

/* Where the filesystem starts: the disk itself, or an MBR's first partition. */
static int find_fs(const struct boot_image *img, uint64_t *base)
{
	unsigned char mbr[SECTOR];
	if (has_ext_magic(img, 0)) {
		*base = 0;
		return 0;
	}
	int r = boot_image_read(img, mbr, sizeof(mbr), 0);
	if (r < 0)
		return r;
	const unsigned char *p1 = mbr + 446;
	if (mbr[510] != 0x55 || mbr[511] != 0xaa || p1[4] == 0 || p1[4] == MBR_TYPE_GPT)
		return -ENODEV;
	uint64_t lba = (uint64_t)p1[8] | (uint64_t)p1[9] << 8 | (uint64_t)p1[10] << 16 | (uint64_t)p1[11] << 24;
	if (!has_ext_magic(img, lba * SECTOR))
		return -ENODEV;
	*base = lba * SECTOR;
	return 0;
}

static int errcode_to_errno(errcode_t e)
{
	if (e == EXT2_ET_FILE_NOT_FOUND)
		return -ENOENT;
	if (e == EXT2_ET_NO_MEMORY)
		return -ENOMEM;
	if (e > 0 && e < 4096)
		return (int)-e;
	return -EIO;
}

int boot_fs_open(const struct boot_image *img, struct boot_fs **out)
{
	struct channel_data d = { .img = img };
	int r = find_fs(img, &d.base);
	if (r < 0)
		return r;
	char name[64];
	snprintf(name, sizeof(name), "xvm-boot:%p", (void *)&d);
	struct boot_fs *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	errcode_t e = ext2fs_open2(name, NULL, EXT2_FLAG_64BITS, 0, 0, &boot_io_manager, &b->fs);
	if (e) {
		free(b);
		/* A magic number but a superblock libext2fs refuses: not ours to read. */
		return e == EXT2_ET_BAD_MAGIC || e == EXT2_ET_CORRUPT_SUPERBLOCK || e == EXT2_ET_UNSUPP_FEATURE ||
				       e == EXT2_ET_RO_UNSUPP_FEATURE
			       ? -ENODEV
			       : errcode_to_errno(e);
	}
	*out = b;
	return 0;
}

void boot_fs_close(struct boot_fs *b)
{
	if (!b)
		return;
	ext2fs_close_free(&b->fs);
	free(b);
}

static int open_file(struct boot_fs *b, const char *path, ext2_file_t *file, uint64_t *size)
{
	ext2_ino_t ino;
	struct ext2_inode inode;
	errcode_t e = ext2fs_namei_follow(b->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
	if (!e)
		e = ext2fs_read_inode(b->fs, ino, &inode);
	if (e)
		return errcode_to_errno(e);
	if (LINUX_S_ISDIR(inode.i_mode))
		return -EISDIR;
	if (!LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	if ((e = ext2fs_file_open(b->fs, ino, 0, file)))
		return errcode_to_errno(e);
	*size = EXT2_I_SIZE(&inode);
	return 0;
}

/* Calls sink on each chunk of the file; stops at its first error. */
static int read_chunks(ext2_file_t file, int (*sink)(void *ctx, const char *buf, size_t n), void *ctx)
{
	char buf[65536];
	for (;;) {
		unsigned int got;
		errcode_t e = ext2fs_file_read(file, buf, sizeof(buf), &got);
		if (e)
			return errcode_to_errno(e);
		if (got == 0)
			return 0;
		int r = sink(ctx, buf, got);
		if (r < 0)
			return r;
	}
}

struct text_sink {
	char *text;
	size_t len;
};

static int to_text(void *ctx, const char *buf, size_t n)
{
	struct text_sink *t = ctx;
	memcpy(t->text + t->len, buf, n);
	t->len += n;
	return 0;
}

int boot_fs_read(struct boot_fs *b, const char *path, size_t max, char **text, size_t *len)
{
	ext2_file_t file;
	uint64_t size;
	int r = open_file(b, path, &file, &size);
	if (r < 0)
		return r;
	struct text_sink t = { .text = size <= max ? malloc((size_t)size + 1) : NULL };
	if (size > max)
		r = -EFBIG;
	else if (!t.text)
		r = -ENOMEM;
	else if ((r = read_chunks(file, to_text, &t)) == 0 && t.len != size)
		r = -EIO;
	ext2fs_file_close(file);
	if (r < 0) {
		free(t.text);
		return r;
	}
	t.text[t.len] = 0;
	*text = t.text;
	*len = t.len;
	return 0;
}

static int to_fd(void *ctx, const char *buf, size_t n)
{
	int fd = *(int *)ctx;
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int boot_fs_copy(struct boot_fs *b, const char *path, const char *dest)
{
	ext2_file_t file;
	uint64_t size;
	int r = open_file(b, path, &file, &size);
	if (r < 0)
		return r;
	int fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		r = -errno;
	else {
		r = read_chunks(file, to_fd, &fd);
		if (close(fd) < 0 && r == 0)
			r = -errno;
		if (r < 0)
			unlink(dest);
	}
	ext2fs_file_close(file);
	return r;
}
