/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the real-QEMU tests, test_qemu.c and test_qemu_faults.c.
 * The guest is a 96-byte multiboot kernel (see guest[] in qemutest.c): it
 * prints "OK" on the serial port, then powers off, resets, panics (pvpanic)
 * or idles, as the last letter of its command line says.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "hypercall.h"

struct json_object;

bool hvt_have_qemu(void);

#define REQUIRE_QEMU() \
	do { if (!hvt_have_qemu()) cr_skip_test("qemu-system-x86_64 is not installed"); } while (0)

/* Writes n bytes of data to path (created with mode), asserting success. */
void hvt_write_file(const char *path, const void *data, size_t n, mode_t mode);

/* CLOCK_MONOTONIC in seconds. */
double hvt_now_s(void);

/* Whether the file (its first MiB) holds `needle` within `secs`. */
bool hvt_file_has(const char *path, const char *needle, double secs);

/* Whether pid is alive: neither gone nor a zombie. */
bool hvt_pid_alive(pid_t pid);

/* DOMAIN_CREATE of *c; checks that a failure leaves the domid alone.
 * Unlike hvt_create_cfg(), domid must not be NULL. */
int hvt_qemu_create(struct xvm_hv *h, const struct xvm_hc_domain_config *c, uint32_t *domid);

/* EVENT_POLL since *seq; on success *seq moves on to the latest event. */
int hvt_qemu_event_poll(struct xvm_hv *h, uint64_t *seq, uint32_t *ids, uint32_t cap, uint32_t *count);

/*
 * The qemu fixture (define HVT_QEMU_FIXTURE before including this header):
 * a state dir holding the test guest's kernel, and a qemu handle on it if
 * QEMU is installed. Teardown kills whatever a failed test left running.
 */
#ifdef HVT_QEMU_FIXTURE
extern char *dir;
extern struct xvm_hv *hv;
extern struct xvm_hc_domain_config cfg;
extern char kernel[512]; /* the test guest */

void hvt_qemu_setup(void);
void hvt_qemu_teardown(void);

/* Every process whose command line names our state dir: QEMUs and monitors. */
int hvt_our_processes(pid_t *pids, int max);

/* The test guest by direct kernel boot; `action`: "p", "r", "c" or "idle". */
void hvt_guest_config(struct xvm_hc_domain_config *c, unsigned n, const char *action);

/* Creates (in cfg) and unpauses guest n, asserting success; its domid. */
uint32_t hvt_start_guest(struct xvm_hv *h, unsigned n, const char *action);

/* The domain is gone through hv, and so are its QEMU, run dir and processes. */
void hvt_assert_gone(uint32_t domid, pid_t pid);

/* A QMP command's result (the caller puts it), on a connection of the test's own; args is put. */
struct json_object *hvt_qmp(uint32_t domid, const char *cmd, struct json_object *args);
/* Every block node's name, each followed by a space: for "nothing changed" checks. */
void hvt_node_names(uint32_t domid, char *buf, size_t size);
/* What query-block says device disk<pos> has: the size the guest sees (0: no medium), its top node. */
uint64_t hvt_device_size(uint32_t domid, uint32_t pos, char node[64]);
#endif
