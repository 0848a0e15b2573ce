/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals shared by the qemu backend's files. The backend keeps no
 * domain state in memory: everything lives under STATE_DIR/run/qemu, so
 * that any process opening the state dir sees, and can act on, the QEMUs
 * that earlier processes started:
 *
 *   run/qemu/lock          admission lock (domid counter, uuid index)
 *   run/qemu/next-domid    the persistent domid counter
 *   run/qemu/event-seq     the event sequence (u64, host order; flock'ed)
 *   run/qemu/by-uuid/UUID  symlink to the domid: one domain per uuid
 *   run/qemu/DOMID/        one domain: see rundir.c
 */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"

struct hv_image;
struct json_object;
struct qmp;

#define QEMU_MAX_VCPUS 128      /* the ABI's XVM_HC_MAX_VCPUS, below QEMU's 255 on x86 */
#define QEMU_HOTPLUG_PORTS 8    /* q35 PCIe root ports left free for hot-plug */
#define QEMU_START_TIMEOUT_MS 20000
#define QEMU_STOP_TIMEOUT_MS 3000
#define QEMU_SWTPM_TIMEOUT_MS 10000 /* for swtpm to open its control socket */
#define QEMU_NODE_NAME_MAX 32   /* QEMU's limit on node names, with the NUL */

struct qemu_host {
	char hostname[256];
	uint32_t cpu_count;
	uint64_t memory_total_kib;
	enum xvm_hc_accel accel;
	uint32_t max_vcpus;
	char cpu_model[128];
};

/* Sized so that every path built from them fits PATH_MAX. */
#define QEMU_STATE_DIR_MAX (PATH_MAX - 512)

struct qemu {
	char state_dir[QEMU_STATE_DIR_MAX];
	char run_dir[QEMU_STATE_DIR_MAX + 16];
	char seq_path[QEMU_STATE_DIR_MAX + 32];
	struct qemu_host host;
	pthread_mutex_t lock; /* guards event_fd */
	int event_fd;         /* inotify on seq_path; -1 until EVENT_FD */
};

/* What the backend keeps of a disk beyond its config (blockdev.c). */
struct qdisk {
	uint32_t top;     /* the level of the image on top: 0, or the number of images put on it since */
	bool hotplugged;  /* a virtio disk on a hot-plug port, even at an IDE position */
};

/* One domain as its rundir records it. */
struct qdom {
	uint32_t domid;
	char dir[QEMU_STATE_DIR_MAX + 32];
	struct xvm_hc_domain_config cfg;
	struct qdisk disks[XVM_HC_MAX_DISKS]; /* cfg.disks[i]'s is disks[i] */
	uint64_t start_time;
	uint64_t memory_target_kib;
	enum xvm_hc_accel accel;
	int vnc_port, ws_port;
	int lock_fd; /* the domain's lock while held; -1 otherwise */
	int tap_fds[XVM_HC_MAX_NICS]; /* cfg.nics[i]'s open tap while QEMU starts; -1 otherwise */
	bool run_at_start; /* no -S: the guest boots while we connect */
};

/* --- host.c --- */
/* The host; state_dir keeps the answer of the KVM probe for this boot. */
int qemu_host_probe(const char *state_dir, struct qemu_host *ret);
uint64_t qemu_host_cpumask(const struct qemu_host *h);
uint64_t qemu_host_memory_free_kib(void);
/* The QEMU binary ($XVM_QEMU_BINARY or the one on PATH), checked executable. */
int qemu_binary(char path[PATH_MAX]);
/* The monitor helper ($XVM_QEMU_MONITOR, the installed one, or the build dir's). */
int qemu_monitor_binary(char path[PATH_MAX]);
/* swtpm ($XVM_SWTPM_BINARY or the one on PATH), checked executable. */
int qemu_swtpm_binary(char path[PATH_MAX]);

/* --- config.c: checks and the on-disk form of a domain config --- */
int qemu_config_check(const struct xvm_hc_domain_config *c, const struct qemu_host *host);
int qemu_disk_check(const struct xvm_hc_disk_config *d);
struct json_object *qemu_config_to_json(const struct xvm_hc_domain_config *c);
int qemu_config_from_json(struct json_object *o, struct xvm_hc_domain_config *c);
/* OVMF code and vars templates, or -ENOENT with a detail. */
int qemu_ovmf_paths(bool secure_boot, char code[PATH_MAX], char vars[PATH_MAX]);

/* --- rundir.c: the per-domain runtime dir --- */
int qemu_rundir_init(struct qemu *qm);
/* dir/name into buf (PATH_MAX). */
const char *qemu_path(char *buf, const struct qdom *d, const char *name);
/* Allocates a domid and the rundir for d->cfg.uuid, locked; -EEXIST if the uuid runs. */
int qemu_admit(struct qemu *qm, struct qdom *d);
/* Removes the rundir and the uuid index entry: nothing of the domain is left. */
void qemu_forget(struct qemu *qm, struct qdom *d);
/* Reads domain domid's record; -ESRCH if there is none. */
int qemu_dom_load(struct qemu *qm, uint32_t domid, struct qdom *d);
int qemu_dom_store(const struct qdom *d);
int qemu_dom_find_uuid(struct qemu *qm, const char *uuid, uint32_t *domid);
/* Every domid with a rundir, ascending; the caller frees *ret. */
int qemu_dom_list(struct qemu *qm, uint32_t **ret, uint32_t *count);
/* The domain's lock: exclusive for ops that change it; waits a bounded time. */
int qemu_dom_lock(struct qdom *d);
void qemu_dom_unlock(struct qdom *d);
/* Whether someone (a create or a destroy in progress) holds it. */
bool qemu_dom_locked_elsewhere(const struct qdom *d);
struct qdom *qemu_dom_new(void);
void qemu_dom_free(struct qdom *d);

/* --- process.c --- */
/* Starts the monitor helper, detached from us: it starts QEMU with argv (after
 * swtpm with tpm_argv, unless NULL), or with argv NULL adopts the domain's
 * running QEMU (its monitor died). */
int qemu_spawn(struct qemu *qm, const struct qdom *d, char *const tpm_argv[], char *const argv[]);
/* Waits for QEMU's QMP to answer; a QEMU that exits first is reported with its stderr. */
int qemu_wait_ready(const struct qdom *d, int timeout_ms, struct qmp **ret);
/* r, or -EIO with QEMU's stderr when the failure was QEMU exiting. */
int qemu_startup_failure(const struct qdom *d, int r);
/* Reads a "PID STARTTIME" file of the rundir: 0, or -ENOENT. */
int qemu_read_pid(const struct qdom *d, const char *name, pid_t *pid, uint64_t *start);
/* The process exists, is not a zombie and started at `start`. */
bool qemu_pid_alive(pid_t pid, uint64_t start);
int qemu_pid_starttime(pid_t pid, uint64_t *ret);
/* QEMU's alive and its pid, or false. */
bool qemu_alive(const struct qdom *d, pid_t *pid);
/* QMP quit, then SIGKILL after a bounded wait; the monitor too. `gently`: try quit first. */
void qemu_stop(const struct qdom *d, bool gently);
/* The tail of QEMU's stderr, for error details. */
void qemu_log_tail(const struct qdom *d, char *buf, size_t size);
uint64_t qemu_cpu_time_ns(pid_t pid);
/* A fresh QMP connection to the domain's command socket. */
int qemu_qmp(const struct qdom *d, struct qmp **ret);

/* --- net.c: taps and managed bridges --- */
/* A tap for NIC n of d on its bridge (made if managed and missing), up; *ret its fd (close-on-exec). */
int qemu_tap_open(const struct qemu *qm, const struct qdom *d, const struct xvm_hc_nic_config *n, int *ret);
/* The taps of every bridged NIC of d into d->tap_fds; on failure none is left open. */
int qemu_taps_open(const struct qemu *qm, struct qdom *d);
void qemu_taps_close(struct qdom *d);
/* Removes the managed bridges of these NICs that no port uses any more. */
void qemu_bridges_release(const struct qemu *qm, const struct xvm_hc_nic_config *nics, uint32_t n);

/* --- cmdline.c --- */
/* QEMU's argv for d (NULL-terminated, heap); incoming: a -incoming URI or NULL. */
int qemu_cmdline(const struct qdom *d, const char *binary, const char *incoming, char ***ret);
/* The -device JSON of a disk or CD drive: IDE/AHCI where the board has a port, else virtio. */
struct json_object *qemu_disk_device(const struct qdom *d, const struct xvm_hc_disk_config *disk, bool hotplug);
/* The NIC (virtio-net or e1000) on netdev "netN", for -device and device_add alike. */
struct json_object *qemu_nic_device(const struct xvm_hc_nic_config *n);
void qemu_argv_free(char **argv);
/* swtpm's argv for the vTPM of d (whose cfg.vtpm_dir is set): its control socket in the rundir. */
int qemu_swtpm_cmdline(const struct qdom *d, const char *binary, char ***ret);
const char *qemu_cpu_type(enum xvm_hc_accel accel);

/* --- blockdev.c: a disk's block nodes --- */
/* "drvN" / "fileN" (level 0) or "drvN.L" / "fileN.L"; kind is "drv" or "file". */
const char *qemu_node_name(char buf[QEMU_NODE_NAME_MAX], const char *kind, uint32_t position, uint32_t level);
/* The blockdev JSONs (protocol, format) of the image at `level` of a disk with a path. */
struct json_object *qemu_disk_file_node(const struct xvm_hc_disk_config *disk, uint32_t level);
struct json_object *qemu_disk_format_node(const struct xvm_hc_disk_config *disk, uint32_t level);
/* blockdev-add of both; `overlay`: without the backing image its header names. */
int qemu_nodes_add(struct qmp *q, const struct xvm_hc_disk_config *disk, uint32_t level, bool overlay);
/* blockdev-del of both (of each level from top down), for nodes that may or may not be there. */
void qemu_nodes_del(struct qmp *q, uint32_t position, uint32_t level);
void qemu_nodes_del_stack(struct qmp *q, uint32_t position, uint32_t top);
/* What QEMU read of the image of format node "drvN[.level]"; -ENOENT if there is none. */
int qemu_node_image(struct qmp *q, uint32_t position, uint32_t level, struct hv_image *ret);

/* --- events.c --- */
int qemu_seq_init(const char *seq_path);
/*
 * Records that domain `dir` stopped by itself for `reason` and bumps the
 * event sequence, unless a stop is recorded already. Shared with the
 * monitor helper, which calls it when QEMU reports or dies.
 */
int qemu_note_stop(const char *seq_path, const char *dir, enum xvm_hc_shutdown_reason reason);
/* The recorded stop of domain `dir`: 1 with reason and seq, 0 if none. */
int qemu_read_stop(const char *dir, enum xvm_hc_shutdown_reason *reason, uint64_t *seq);
const char *qemu_reason_name(enum xvm_hc_shutdown_reason r);

/* --- domain.c --- */
/* Loads the domain and takes its lock (for ops that change it). */
int qemu_dom_open_locked(struct qemu *qm, uint32_t domid, struct qdom **ret);
/* Fails with -EINVAL unless the domain's QEMU runs (paused or not). */
int qemu_dom_live(const struct qdom *d, struct qmp **ret);
/* Pins each online vCPU's thread as the config says. */
int qemu_apply_affinity(const struct qemu *qm, const struct qdom *d, struct qmp *q);
/* Starts QEMU for a new domain d (admitted, locked) and waits until it answers. */
int qemu_dom_start(struct qemu *qm, struct qdom *d, const char *incoming, struct qmp **ret);

/* Op entries, one group per file. */
int qemu_op_domain_create(void *priv, void *arg);
int qemu_op_domain_unpause(void *priv, void *arg);
int qemu_op_domain_pause(void *priv, void *arg);
int qemu_op_domain_shutdown(void *priv, void *arg);
int qemu_op_domain_destroy(void *priv, void *arg);
int qemu_op_domain_get_info(void *priv, void *arg);
int qemu_op_domain_list(void *priv, void *arg);
int qemu_op_domain_set_memory(void *priv, void *arg);
int qemu_op_domain_set_vcpus(void *priv, void *arg);
int qemu_op_domain_vcpu_affinity(void *priv, void *arg);
int qemu_op_device_attach(void *priv, void *arg);
int qemu_op_device_detach(void *priv, void *arg);
int qemu_op_media_change(void *priv, void *arg);
int qemu_op_domain_save(void *priv, void *arg);
int qemu_op_domain_restore(void *priv, void *arg);
int qemu_op_console_open(void *priv, void *arg);
int qemu_op_event_fd(void *priv, void *arg);
int qemu_op_event_poll(void *priv, void *arg);
int qemu_op_guest_action(void *priv, void *arg);
int qemu_op_disk_resize(void *priv, void *arg);
int qemu_op_disk_snapshot(void *priv, void *arg);
int qemu_op_disk_get_info(void *priv, void *arg);
int qemu_op_bridge_release(void *priv, void *arg);
