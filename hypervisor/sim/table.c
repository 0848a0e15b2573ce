/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim hypervisor's domain table, kept in one MAP_SHARED file:
 *
 *   header (4 KiB) | slots[capacity] | domid index[2 * capacity] | uuid index[2 * capacity]
 *
 * Slots never move; the two indexes (open addressing, linear probing,
 * entries are slot index + 1) make lookups by domid and by uuid O(1) with
 * 10,000 domains. The indexes, the free list, the domain count and the
 * memory sum are derived from the slots: a change to them is bracketed by
 * the header's dirty flag, and whoever next takes the lock after a process
 * died in between rebuilds them. Growth doubles the capacity; every process
 * notices it when it takes the lock and remaps.
 *
 * Exclusion is a robust, process-shared mutex in the header rather than an
 * fcntl() lock: uncontended, it costs no system call (fcntl lock + unlock
 * cost ~1.9 us, most of a hypercall), and a process that dies holding it
 * hands the next one EOWNERDEAD, upon which the derived data is rebuilt.
 * The mutex cannot outlive the kernel that knew its owner, so it is
 * re-initialised by the first opener after a reboot (the header records the
 * boot id); openers exclude each other with an OFD lock. The header has a
 * mapping of its own that never moves: the mutex must keep its address
 * while held, even when the rest of the file is remapped to grow.
 *
 * The file is host-local and in host byte order.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "table.h"

#define SIM_MAGIC "XVMSIMHV"
#define SIM_FORMAT_VERSION 1u
#define SIM_HEADER_SIZE 4096u
#define SIM_INITIAL_CAPACITY 64u
#define SIM_MAX_CAPACITY (1u << 22)

struct sim_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t slot_size;
	uint32_t capacity;        /* slots; a power of two */
	uint32_t ndomains;
	uint32_t free_head;       /* slot index + 1; 0: table full */
	uint32_t next_domid;      /* never reused in the life of the file */
	uint32_t dirty;           /* derived data half-changed: rebuild it */
	uint64_t memory_used_kib; /* sum of every domain's static max */
	uint64_t event_seq;       /* written with pwrite(): see sim_table_note_event() */
	char boot_id[40];         /* the boot in which `lock` was initialised */
	pthread_mutex_t lock;     /* robust, process-shared: held for each hypercall */
};

_Static_assert(sizeof(struct sim_header) <= SIM_HEADER_SIZE, "header too big");
/* tests/hypervisor/test_sim.c takes the lock at this offset to play a dying process. */
_Static_assert(offsetof(struct sim_header, lock) == 96, "header layout changed: bump SIM_FORMAT_VERSION");
_Static_assert(sizeof(struct sim_slot) == 704, "slot layout changed: bump SIM_FORMAT_VERSION");
_Static_assert(sizeof(struct sim_slot) % 8 == 0, "slots must keep 8-byte alignment");

struct sim_table {
	pthread_mutex_t lock; /* taken before the header's: no thread waits on a moving mapping */
	int fd;
	char *path;
	struct sim_header *hdr; /* the first SIM_HEADER_SIZE bytes, mapped apart: never moves */
	void *map;            /* the whole file; moves when it grows */
	size_t map_size;
	uint32_t capacity;    /* what is mapped */
};

static size_t file_size(uint32_t capacity)
{
	return SIM_HEADER_SIZE + (size_t)capacity * sizeof(struct sim_slot)
	       + 2 * (size_t)capacity * 2 * sizeof(uint32_t);
}

static struct sim_header *hdr(const struct sim_table *t)
{
	return t->hdr;
}

static struct sim_slot *slots(const struct sim_table *t)
{
	return (struct sim_slot *)((char *)t->map + SIM_HEADER_SIZE);
}

static uint32_t *domid_index(const struct sim_table *t)
{
	return (uint32_t *)(slots(t) + t->capacity);
}

static uint32_t *uuid_index(const struct sim_table *t)
{
	return domid_index(t) + 2 * t->capacity;
}

static uint32_t index_mask(const struct sim_table *t)
{
	return 2 * t->capacity - 1;
}

static uint32_t hash_domid(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t hash_uuid(const char *uuid)
{
	uint32_t h = 2166136261u;

	for (; *uuid; uuid++)
		h = (h ^ (uint8_t)*uuid) * 16777619u;
	return h;
}

/* Stores of a half-done change must not be reordered around the flag. */
static void mark_dirty(struct sim_header *h)
{
	h->dirty = 1;
	atomic_thread_fence(memory_order_seq_cst);
}

static void mark_clean(struct sim_header *h)
{
	atomic_thread_fence(memory_order_seq_cst);
	h->dirty = 0;
}

static void index_put(uint32_t *idx, uint32_t mask, uint32_t hash, uint32_t slot)
{
	uint32_t j = hash & mask;

	while (idx[j])
		j = (j + 1) & mask;
	idx[j] = slot + 1;
}

static uint32_t entry_hash(const struct sim_table *t, const uint32_t *idx, uint32_t e)
{
	const struct sim_slot *s = &slots(t)[e - 1];

	return idx == domid_index(t) ? hash_domid(s->domid) : hash_uuid(s->uuid);
}

/* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
static void index_del(struct sim_table *t, uint32_t *idx, uint32_t hash, uint32_t slot)
{
	uint32_t mask = index_mask(t);
	uint32_t i = hash & mask, j, k;

	while (idx[i] && idx[i] != slot + 1)
		i = (i + 1) & mask;
	if (!idx[i])
		return;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!idx[j])
			break;
		k = entry_hash(t, idx, idx[j]) & mask;
		/* Leave idx[j] if its home k lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		idx[i] = idx[j];
		i = j;
	}
	idx[i] = 0;
}

/* Recomputes everything derived from the slots. */
static void rebuild(struct sim_table *t)
{
	struct sim_header *h = hdr(t);
	uint32_t mask = index_mask(t), n = 0, maxid = 0;
	uint64_t used = 0;

	memset(domid_index(t), 0, 2 * (size_t)t->capacity * 2 * sizeof(uint32_t));
	h->free_head = 0;
	for (uint32_t i = t->capacity; i-- > 0;) {
		struct sim_slot *s = &slots(t)[i];

		if (!s->domid) {
			s->next_free = h->free_head;
			h->free_head = i + 1;
			continue;
		}
		n++;
		used += s->memory_static_max_kib;
		if (s->domid > maxid)
			maxid = s->domid;
		index_put(domid_index(t), mask, hash_domid(s->domid), i);
		index_put(uuid_index(t), mask, hash_uuid(s->uuid), i);
	}
	h->ndomains = n;
	h->memory_used_kib = used;
	if (h->next_domid <= maxid)
		h->next_domid = maxid + 1;
}

static int check_header(const struct sim_table *t, const struct sim_header *h, off_t size)
{
	if ((size_t)size < sizeof *h || memcmp(h->magic, SIM_MAGIC, sizeof h->magic)) {
		xvm_hv_set_error("%s is not a sim hypervisor file (bad magic); refusing to touch it",
				 t->path);
		return -EINVAL;
	}
	if (h->version != SIM_FORMAT_VERSION) {
		xvm_hv_set_error("%s has format version %u; this build reads version %u",
				 t->path, h->version, SIM_FORMAT_VERSION);
		return -EINVAL;
	}
	if (h->header_size != SIM_HEADER_SIZE || h->slot_size != sizeof(struct sim_slot)) {
		xvm_hv_set_error("%s: header size %u and slot size %u, expected %u and %zu",
				 t->path, h->header_size, h->slot_size, SIM_HEADER_SIZE,
				 sizeof(struct sim_slot));
		return -EINVAL;
	}
	if (!h->capacity || h->capacity > SIM_MAX_CAPACITY || (h->capacity & (h->capacity - 1))) {
		xvm_hv_set_error("%s: invalid capacity %u", t->path, h->capacity);
		return -EINVAL;
	}
	if ((size_t)size < file_size(h->capacity)) {
		xvm_hv_set_error("%s is truncated: %jd bytes, capacity %u needs %zu",
				 t->path, (intmax_t)size, h->capacity, file_size(h->capacity));
		return -EINVAL;
	}
	return 0;
}

static int remap(struct sim_table *t, uint32_t capacity)
{
	size_t size = file_size(capacity);
	void *m;

	if (t->map)
		m = mremap(t->map, t->map_size, size, MREMAP_MAYMOVE);
	else
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (m == MAP_FAILED) {
		int r = -errno;
		xvm_hv_set_error("cannot map %s: %s", t->path, strerror(-r));
		return r;
	}
	t->map = m;
	t->map_size = size;
	t->capacity = capacity;
	return 0;
}

/* Another process grew the file: check what it wrote and follow. */
static int follow_growth(struct sim_table *t)
{
	struct stat st;

	if (fstat(t->fd, &st) < 0) {
		int r = -errno;
		xvm_hv_set_error("cannot stat %s: %s", t->path, strerror(-r));
		return r;
	}
	if (check_header(t, hdr(t), st.st_size) < 0)
		return -EINVAL;
	return remap(t, hdr(t)->capacity);
}

static int grow(struct sim_table *t)
{
	uint32_t old = t->capacity, cap = old * 2;
	struct sim_header *h = hdr(t);
	size_t from;
	int r;

	if (old >= SIM_MAX_CAPACITY) {
		xvm_hv_set_error("the sim hypervisor holds at most %u domains", SIM_MAX_CAPACITY);
		return -ENOSPC;
	}
	if (ftruncate(t->fd, file_size(cap)) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot grow %s: %s", t->path, strerror(-r));
		return r;
	}
	r = remap(t, cap);
	if (r < 0)
		return r;
	h = hdr(t);
	mark_dirty(h);
	/* The old indexes now lie where the new slots go. */
	from = SIM_HEADER_SIZE + (size_t)old * sizeof(struct sim_slot);
	memset((char *)t->map + from, 0, t->map_size - from);
	h->capacity = cap;
	rebuild(t);
	mark_clean(h);
	return 0;
}

/* Creates the file under a temporary name and links it in, so that no
 * process ever sees a half-initialised one. */
static int create_file(struct sim_table *t, const char *state_dir)
{
	struct sim_header h = {
		.magic = SIM_MAGIC,
		.version = SIM_FORMAT_VERSION,
		.header_size = SIM_HEADER_SIZE,
		.slot_size = sizeof(struct sim_slot),
		.capacity = SIM_INITIAL_CAPACITY,
		.next_domid = 1,
		.dirty = 1,     /* the first lock builds the free list */
		.event_seq = 1, /* so that a seq returned to a caller is never 0, which means "now" */
	};
	char *tmp;
	int fd, r = 0;

	if (asprintf(&tmp, "%s/.sim-hypervisor.XXXXXX", state_dir) < 0) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		xvm_hv_set_error("cannot create a file in %s: %s", state_dir, strerror(-r));
		free(tmp);
		return r;
	}
	if (ftruncate(fd, file_size(SIM_INITIAL_CAPACITY)) < 0 ||
	    pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
		r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot initialise %s: %s", tmp, strerror(-r));
	} else if (link(tmp, t->path) == 0) {
		t->fd = fd;
	} else if (errno == EEXIST) {
		/* Another process won the race: use its file. */
		t->fd = open(t->path, O_RDWR | O_CLOEXEC);
		if (t->fd < 0) {
			r = -errno;
			xvm_hv_set_error("cannot open %s: %s", t->path, strerror(-r));
		}
	} else {
		r = -errno;
		xvm_hv_set_error("cannot create %s: %s", t->path, strerror(-r));
	}
	if (t->fd != fd)
		close(fd);
	unlink(tmp);
	free(tmp);
	return r;
}

static int ofd_lock(struct sim_table *t, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	while (fcntl(t->fd, F_OFD_SETLKW, &fl) < 0) {
		if (errno != EINTR) {
			int r = -errno;
			xvm_hv_set_error("cannot lock %s: %s", t->path, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The kernel's boot id, or failing that the boot time. */
static int boot_id(char id[40])
{
	char line[128];
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	unsigned long long btime;

	memset(id, 0, 40);
	if (f) {
		if (fgets(line, sizeof line, f))
			snprintf(id, 40, "%.36s", line);
		fclose(f);
		if (*id)
			return 0;
	}
	f = fopen("/proc/stat", "re");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "btime %llu", &btime) == 1) {
			snprintf(id, 40, "btime-%llu", btime);
			break;
		}
	if (f)
		fclose(f);
	if (!*id) {
		xvm_hv_set_error("cannot tell which boot this is: no boot_id nor btime in /proc");
		return -EIO;
	}
	return 0;
}

static int init_mutex(struct sim_table *t)
{
	pthread_mutexattr_t a;
	int r;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	r = pthread_mutex_init(&hdr(t)->lock, &a);
	pthread_mutexattr_destroy(&a);
	if (r) {
		xvm_hv_set_error("cannot set up the lock of %s: %s", t->path, strerror(r));
		return -r;
	}
	return 0;
}

static int map_existing(struct sim_table *t)
{
	char id[40];
	struct sim_header h;
	struct stat st;
	ssize_t n;
	int r;

	if (fstat(t->fd, &st) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot stat %s: %s", t->path, strerror(-r));
		return r;
	}
	memset(&h, 0, sizeof h);
	n = pread(t->fd, &h, sizeof h, 0);
	if (n < 0) {
		r = -errno;
		xvm_hv_set_error("cannot read %s: %s", t->path, strerror(-r));
		return r;
	}
	r = check_header(t, &h, st.st_size);
	if (r < 0)
		return r;
	t->hdr = mmap(NULL, SIM_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->hdr == MAP_FAILED) {
		t->hdr = NULL;
		r = -errno;
		xvm_hv_set_error("cannot map %s: %s", t->path, strerror(-r));
		return r;
	}
	r = remap(t, h.capacity);
	if (r < 0)
		return r;
	r = boot_id(id);
	if (r < 0)
		return r;
	if (strcmp(hdr(t)->boot_id, id)) {
		/* Nobody of this boot has opened the file: nobody holds or waits on the mutex. */
		r = init_mutex(t);
		if (r < 0)
			return r;
		memcpy(hdr(t)->boot_id, id, sizeof hdr(t)->boot_id);
	}
	if (hdr(t)->dirty) {
		rebuild(t);
		mark_clean(hdr(t));
	}
	return 0;
}

int sim_table_open(const char *state_dir, struct sim_table **ret)
{
	struct sim_table *t;
	int r;

	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		xvm_hv_set_error("cannot create state dir %s: %s", state_dir, strerror(-r));
		return r;
	}
	t = calloc(1, sizeof *t);
	if (!t || asprintf(&t->path, "%s/sim-hypervisor", state_dir) < 0) {
		free(t);
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	t->fd = open(t->path, O_RDWR | O_CLOEXEC);
	if (t->fd < 0 && errno != ENOENT) {
		r = -errno;
		xvm_hv_set_error("cannot open %s: %s", t->path, strerror(-r));
		goto fail;
	}
	if (t->fd < 0) {
		r = create_file(t, state_dir);
		if (r < 0)
			goto fail;
	}
	r = ofd_lock(t, F_WRLCK);
	if (r < 0)
		goto fail;
	r = map_existing(t);
	ofd_lock(t, F_UNLCK);
	if (r < 0)
		goto fail;
	pthread_mutex_init(&t->lock, NULL);
	*ret = t;
	return 0;

fail:
	if (t->hdr)
		munmap(t->hdr, SIM_HEADER_SIZE);
	if (t->map)
		munmap(t->map, t->map_size);
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	free(t);
	return r;
}

void sim_table_close(struct sim_table *t)
{
	munmap(t->hdr, SIM_HEADER_SIZE);
	munmap(t->map, t->map_size);
	close(t->fd);
	pthread_mutex_destroy(&t->lock);
	free(t->path);
	free(t);
}

const char *sim_table_path(const struct sim_table *t)
{
	return t->path;
}

int sim_table_lock(struct sim_table *t)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = pthread_mutex_lock(&hdr(t)->lock);
	if (r == EOWNERDEAD) {
		/* Its holder died mid-hypercall: whatever it derived may be half done. */
		hdr(t)->dirty = 1;
		pthread_mutex_consistent(&hdr(t)->lock);
	} else if (r) {
		xvm_hv_set_error("cannot lock %s: %s", t->path, strerror(r));
		r = -r;
		goto fail;
	}
	if (hdr(t)->capacity != t->capacity) {
		r = follow_growth(t);
		if (r < 0) {
			pthread_mutex_unlock(&hdr(t)->lock);
			goto fail;
		}
	}
	if (hdr(t)->dirty) {
		rebuild(t);
		mark_clean(hdr(t));
	}
	return 0;

fail:
	pthread_mutex_unlock(&t->lock);
	return r;
}

void sim_table_unlock(struct sim_table *t)
{
	pthread_mutex_unlock(&hdr(t)->lock);
	pthread_mutex_unlock(&t->lock);
}

struct sim_slot *sim_table_find(struct sim_table *t, uint32_t domid)
{
	const uint32_t *idx = domid_index(t);
	uint32_t mask = index_mask(t), e;

	if (!domid)
		return NULL;
	for (uint32_t j = hash_domid(domid) & mask; (e = idx[j]); j = (j + 1) & mask)
		if (e <= t->capacity && slots(t)[e - 1].domid == domid)
			return &slots(t)[e - 1];
	return NULL;
}

struct sim_slot *sim_table_find_uuid(struct sim_table *t, const char *uuid)
{
	const uint32_t *idx = uuid_index(t);
	uint32_t mask = index_mask(t), e;

	for (uint32_t j = hash_uuid(uuid) & mask; (e = idx[j]); j = (j + 1) & mask)
		if (e <= t->capacity && !strcmp(slots(t)[e - 1].uuid, uuid))
			return &slots(t)[e - 1];
	return NULL;
}

int sim_table_insert(struct sim_table *t, struct sim_slot *dom)
{
	struct sim_header *h = hdr(t);
	struct sim_slot *s;
	uint32_t i, domid;
	int r;

	if (h->next_domid == UINT32_MAX) {
		xvm_hv_set_error("the sim hypervisor has used up its domids");
		return -ENOSPC;
	}
	if (!h->free_head) {
		r = grow(t);
		if (r < 0)
			return r;
		h = hdr(t);
	}
	i = h->free_head - 1;
	s = &slots(t)[i];
	mark_dirty(h);
	h->free_head = s->next_free;
	domid = h->next_domid++;
	*s = *dom;
	s->next_free = 0;
	s->domid = domid;
	index_put(domid_index(t), index_mask(t), hash_domid(domid), i);
	index_put(uuid_index(t), index_mask(t), hash_uuid(s->uuid), i);
	h->ndomains++;
	h->memory_used_kib += s->memory_static_max_kib;
	mark_clean(h);
	dom->domid = domid;
	return 0;
}

void sim_table_remove(struct sim_table *t, struct sim_slot *s)
{
	struct sim_header *h = hdr(t);
	uint32_t i = s - slots(t);

	mark_dirty(h);
	index_del(t, domid_index(t), hash_domid(s->domid), i);
	index_del(t, uuid_index(t), hash_uuid(s->uuid), i);
	h->ndomains--;
	h->memory_used_kib -= s->memory_static_max_kib;
	memset(s, 0, sizeof *s);
	s->next_free = h->free_head;
	h->free_head = i + 1;
	mark_clean(h);
}

uint32_t sim_table_capacity(const struct sim_table *t)
{
	return t->capacity;
}

uint32_t sim_table_count(const struct sim_table *t)
{
	return hdr(t)->ndomains;
}

struct sim_slot *sim_table_slot(struct sim_table *t, uint32_t i)
{
	return &slots(t)[i];
}

uint32_t sim_table_slot_index(const struct sim_table *t, const struct sim_slot *s)
{
	return (uint32_t)(s - slots(t));
}

uint64_t sim_table_memory_used(const struct sim_table *t)
{
	return hdr(t)->memory_used_kib;
}

void sim_table_note_event(struct sim_table *t, struct sim_slot *s)
{
	struct sim_header *h = hdr(t);
	uint64_t seq = h->event_seq + 1;

	s->changed_seq = seq;
	/* A write() through the file, unlike a store to the mapping, raises
	 * inotify's IN_MODIFY, which is what wakes every process's event fd.
	 * The page cache is shared, so the mapping sees the new value. */
	if (pwrite(t->fd, &seq, sizeof seq, offsetof(struct sim_header, event_seq)) != sizeof seq)
		h->event_seq = seq;
}

uint64_t sim_table_event_seq(const struct sim_table *t)
{
	return hdr(t)->event_seq;
}
