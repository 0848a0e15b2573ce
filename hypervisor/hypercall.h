/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hypercall interface: the only way libxvm acts on the hypervisor.
 *
 * One entry point in the manner of Xen's domctl, so that every action on a
 * domain can be traced, counted and made to fail on purpose in one place.
 * Every argument structure starts with `struct xvm_hc_head`, which carries
 * the ABI version the caller was built against and per-operation flags; a
 * backend rejects versions, operations and flags it does not know.
 *
 * This layer knows nothing of SRs, templates, pools or the database: it
 * runs domains, identified by a small integer domid and by the VM's UUID.
 *
 * Errors are negative errno values. A backend may leave a human-readable
 * explanation (a QEMU's stderr, say) in xvm_hv_last_error().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XVM_HC_ABI_VERSION 2

struct xvm_hv;

enum xvm_hc {
	XVM_HC_HOST_INFO = 1,       /* struct xvm_hc_host_info */
	XVM_HC_DOMAIN_CREATE,       /* struct xvm_hc_domain_create: created paused (or running) */
	XVM_HC_DOMAIN_UNPAUSE,      /* struct xvm_hc_domain */
	XVM_HC_DOMAIN_PAUSE,        /* struct xvm_hc_domain */
	XVM_HC_DOMAIN_SHUTDOWN,     /* struct xvm_hc_domain_shutdown: asks the guest */
	XVM_HC_DOMAIN_DESTROY,      /* struct xvm_hc_domain: hard, immediate */
	XVM_HC_DOMAIN_GET_INFO,     /* struct xvm_hc_domain_info */
	XVM_HC_DOMAIN_LIST,         /* struct xvm_hc_domain_list */
	XVM_HC_DOMAIN_SET_MEMORY,   /* struct xvm_hc_domain_memory */
	XVM_HC_DOMAIN_SET_VCPUS,    /* struct xvm_hc_domain_vcpus */
	XVM_HC_DOMAIN_VCPU_AFFINITY,/* struct xvm_hc_vcpu_affinity */
	XVM_HC_DEVICE_ATTACH,       /* struct xvm_hc_device */
	XVM_HC_DEVICE_DETACH,       /* struct xvm_hc_device */
	XVM_HC_MEDIA_CHANGE,        /* struct xvm_hc_media */
	XVM_HC_DOMAIN_SAVE,         /* struct xvm_hc_domain_save: domain ends (unless SAVE_KEEP) */
	XVM_HC_DOMAIN_RESTORE,      /* struct xvm_hc_domain_restore: restored paused */
	XVM_HC_MIGRATE_SEND,        /* struct xvm_hc_migrate */
	XVM_HC_MIGRATE_RECEIVE,     /* struct xvm_hc_migrate */
	XVM_HC_CONSOLE_OPEN,        /* struct xvm_hc_console */
	XVM_HC_EVENT_FD,            /* struct xvm_hc_event_fd */
	XVM_HC_EVENT_POLL,          /* struct xvm_hc_event_poll */
	XVM_HC_GUEST_ACTION,        /* struct xvm_hc_guest_action: test hook */
	XVM_HC_DISK_RESIZE,         /* struct xvm_hc_disk_resize: grows a live disk */
	XVM_HC_DISK_SNAPSHOT,       /* struct xvm_hc_disk_snapshot: live external snapshot */
	XVM_HC_DISK_GET_INFO,       /* struct xvm_hc_disk_info */
	XVM_HC_BRIDGE_RELEASE,      /* struct xvm_hc_bridge: a managed bridge no NIC needs any more */
	XVM_HC_OP_MAX
};

/* First member of every argument structure. */
struct xvm_hc_head {
	uint32_t version; /* XVM_HC_ABI_VERSION */
	uint32_t flags;   /* per-op XVM_HC_F_* bits; unknown bits are rejected */
};

#define XVM_HC_HEAD(f) ((struct xvm_hc_head){ .version = XVM_HC_ABI_VERSION, .flags = (f) })

#define XVM_UUID_STRLEN 36
#define XVM_HC_NAME_MAX 128
#define XVM_HC_PATH_MAX 1024
#define XVM_HC_MAX_VCPUS 128
#define XVM_HC_MAX_DISKS 16
#define XVM_HC_MAX_NICS 8
#define XVM_HC_ERROR_MAX 2048

enum xvm_hc_accel { XVM_HC_ACCEL_NONE = 0, XVM_HC_ACCEL_TCG, XVM_HC_ACCEL_KVM };

struct xvm_hc_host_info {
	struct xvm_hc_head head;
	char backend[16];            /* "sim", "qemu", ... */
	char hostname[256];
	uint32_t cpu_count;
	uint64_t memory_total_kib;
	uint64_t memory_free_kib;    /* what new domains may still use */
	uint32_t max_vcpus_per_domain;
	enum xvm_hc_accel accel;
	bool hvm_capable;
	bool pv_capable;             /* direct kernel boot */
	char cpu_model[128];
};

enum xvm_hc_boot { XVM_HC_BOOT_HVM = 0, XVM_HC_BOOT_DIRECT_KERNEL };

enum xvm_hc_disk_kind { XVM_HC_DISK = 0, XVM_HC_CDROM };

/*
 * A disk or CD drive. `path` is a local image file, or an image that QEMU
 * opens over the network itself: nfs://HOST/EXPORT/PATH/FILE (HOST a name,
 * an IPv4 address or [an IPv6 one]; %XX escapes allowed). Such a URL takes
 * no port, user or query: QEMU's nfs driver finds the server's NFS and
 * mount services through its portmapper (rpcbind, port 111).
 */
struct xvm_hc_disk_config {
	char path[XVM_HC_PATH_MAX];  /* empty for an empty CD drive */
	char format[16];             /* "qcow2", "raw", ... */
	enum xvm_hc_disk_kind kind;
	uint32_t position;           /* userdevice: 0, 1, 2, ... */
	bool read_only;
	bool bootable;
};

enum xvm_hc_nic_model { XVM_HC_NIC_VIRTIO = 0, XVM_HC_NIC_E1000 };

#define XVM_HC_BRIDGE_MAX 16         /* IFNAMSIZ, with the NUL */

/*
 * A NIC. On a bridge, the backend opens a tap for it (named
 * vif<domid>.<position>, as XenServer names them), with the MTU, adds it
 * to the bridge and gives it to the guest; the tap goes with the domain.
 * A bridge that is not `managed_bridge` must exist (-ENODEV otherwise); a
 * managed one the backend makes when a NIC first needs it and removes
 * when its last port has gone. Without a bridge the NIC is on a user-mode
 * network (NAT and DHCP inside the backend, no host change).
 */
struct xvm_hc_nic_config {
	char mac[18];                /* empty: the backend's choice */
	char bridge[XVM_HC_BRIDGE_MAX]; /* empty: a user-mode network */
	uint32_t position;           /* the VIF's device: 0, 1, 2, ... */
	uint32_t mtu;                /* 68..65535; 0: 1500 */
	enum xvm_hc_nic_model model;
	bool managed_bridge;
};

struct xvm_hc_domain_config {
	char uuid[XVM_UUID_STRLEN + 1];
	char name[XVM_HC_NAME_MAX];
	uint32_t vcpus_max;
	uint32_t vcpus_online;
	uint64_t memory_static_max_kib;
	uint64_t memory_target_kib;
	enum xvm_hc_boot boot;
	char firmware[16];           /* "bios" or "uefi" (HVM) */
	char boot_order[8];          /* HVM, as qemu/xapi: c disk, d CD, n network; "dc" = CD then disk */
	char machine[16];            /* "q35" or "pc" */
	bool acpi;
	char kernel[XVM_HC_PATH_MAX];   /* direct kernel boot */
	char ramdisk[XVM_HC_PATH_MAX];
	char cmdline[1024];
	uint32_t ndisks;
	struct xvm_hc_disk_config disks[XVM_HC_MAX_DISKS];
	uint32_t nnics;
	struct xvm_hc_nic_config nics[XVM_HC_MAX_NICS];
	uint64_t vcpu_affinity[XVM_HC_MAX_VCPUS]; /* bit n: host CPU n; 0 = any */
	/* Appended: older fields keep their offsets. */
	bool secure_boot;            /* UEFI with secure boot (q35): Microsoft's keys enrolled */
	bool viridian;               /* Hyper-V enlightenments for Windows guests */
	bool usb_tablet;             /* a USB tablet: an absolute pointer for the graphical console */
	/* A TPM 2.0 whose state lives in this directory (swtpm's --tpmstate), an
	 * absolute path without commas; empty: no TPM. The state dir is made by
	 * the caller (swtpm_setup); a save stream carries the TPM's volatile state,
	 * and a restore must name the same dir. */
	char vtpm_dir[XVM_HC_PATH_MAX];
};

struct xvm_hc_domain_create {
	struct xvm_hc_head head;
	const struct xvm_hc_domain_config *config;
	uint32_t domid;              /* out */
};

/* Operations on one existing domain: pause, unpause, destroy. */
struct xvm_hc_domain {
	struct xvm_hc_head head;
	uint32_t domid;
};

enum xvm_hc_shutdown_reason {
	XVM_HC_SHUTDOWN_POWEROFF = 0,
	XVM_HC_SHUTDOWN_REBOOT,
	XVM_HC_SHUTDOWN_SUSPEND,
	XVM_HC_SHUTDOWN_CRASH,
};

/* Asks the guest to shut down; the guest decides when. Poll GET_INFO or
 * the event fd for the domain to reach XVM_HC_STATE_SHUTDOWN. */
struct xvm_hc_domain_shutdown {
	struct xvm_hc_head head;
	uint32_t domid;
	enum xvm_hc_shutdown_reason reason;
};

enum xvm_hc_domain_state {
	XVM_HC_STATE_PAUSED = 1,
	XVM_HC_STATE_RUNNING,
	XVM_HC_STATE_SHUTDOWN,       /* stopped; see shutdown_reason. Destroy it. */
};

struct xvm_hc_domain_info {
	struct xvm_hc_head head;
	uint32_t domid;              /* in; out with XVM_HC_F_INFO_BY_UUID */
	char uuid[XVM_UUID_STRLEN + 1]; /* out; in with XVM_HC_F_INFO_BY_UUID */
	enum xvm_hc_domain_state state;
	enum xvm_hc_shutdown_reason shutdown_reason; /* when state is SHUTDOWN */
	uint32_t vcpus_max;
	uint32_t vcpus_online;
	uint64_t memory_static_max_kib;
	uint64_t memory_target_kib;
	uint64_t memory_actual_kib;
	uint64_t cpu_time_ns;
	uint64_t start_time;         /* seconds since the epoch */
	int64_t pid;                 /* backing process, if any; 0 for sim */
	/* Appended. */
	bool vtpm;                   /* the domain has a TPM (on sim: recorded, not emulated) */
};

/* Lists every domain the backend runs. The caller gives the buffer; when
 * it is too small, count says how many there are and -ENOBUFS is returned. */
struct xvm_hc_domain_list {
	struct xvm_hc_head head;
	uint32_t capacity;           /* in: entries in `domains` */
	uint32_t count;              /* out */
	struct xvm_hc_domain_info *domains;
};

struct xvm_hc_domain_memory {
	struct xvm_hc_head head;
	uint32_t domid;
	uint64_t target_kib;
};

struct xvm_hc_domain_vcpus {
	struct xvm_hc_head head;
	uint32_t domid;
	uint32_t online;
};

struct xvm_hc_vcpu_affinity {
	struct xvm_hc_head head;
	uint32_t domid;
	uint32_t vcpu;
	uint64_t cpumask;            /* bit n: host CPU n; 0 = any */
};

struct xvm_hc_device {
	struct xvm_hc_head head;
	uint32_t domid;
	enum { XVM_HC_DEV_DISK = 0, XVM_HC_DEV_NIC } type;
	struct xvm_hc_disk_config disk;
	struct xvm_hc_nic_config nic;
};

struct xvm_hc_media {
	struct xvm_hc_head head;
	uint32_t domid;
	uint32_t position;
	char path[XVM_HC_PATH_MAX];  /* empty: eject */
	char format[16];
};

/* Saves memory and device state to `path`; the domain ends, or with
 * XVM_HC_F_SAVE_KEEP stays in the state it was in (a checkpoint). */
struct xvm_hc_domain_save {
	struct xvm_hc_head head;
	uint32_t domid;
	char path[XVM_HC_PATH_MAX];
};

/* Recreates a saved domain, paused. */
struct xvm_hc_domain_restore {
	struct xvm_hc_head head;
	const struct xvm_hc_domain_config *config;
	char path[XVM_HC_PATH_MAX];
	uint32_t domid;              /* out */
};

struct xvm_hc_migrate {
	struct xvm_hc_head head;
	uint32_t domid;
	char uri[XVM_HC_PATH_MAX];
};

enum xvm_hc_console_kind { XVM_HC_CONSOLE_SERIAL = 0, XVM_HC_CONSOLE_VNC };

struct xvm_hc_console {
	struct xvm_hc_head head;
	uint32_t domid;
	enum xvm_hc_console_kind kind;
	char location[XVM_HC_PATH_MAX]; /* out: unix socket path or host:port */
	char log_path[XVM_HC_PATH_MAX]; /* out: serial log of the current boot */
};

/* An fd that becomes readable when XVM_HC_EVENT_POLL may report news. */
struct xvm_hc_event_fd {
	struct xvm_hc_head head;
	int fd;                      /* out; owned by the backend */
};

/*
 * Domains whose state changed by the guest's or the host's doing (a guest
 * powered off, rebooted or crashed; its process died) since `since_seq`.
 * Changes a caller made itself through hypercalls are not reported.
 * Pass since_seq = 0 to learn the current sequence number.
 */
struct xvm_hc_event_poll {
	struct xvm_hc_head head;
	uint64_t since_seq;          /* in */
	uint64_t seq;                /* out: pass as since_seq next time */
	uint32_t capacity;           /* in: entries in `domids` */
	uint32_t count;              /* out; -ENOBUFS when over capacity */
	uint32_t *domids;
};

/*
 * Test hook: makes a running guest act on its own as a real one might
 * (power off, reboot or crash). Backends that cannot do so for a given
 * action return -EOPNOTSUPP.
 */
struct xvm_hc_guest_action {
	struct xvm_hc_head head;
	uint32_t domid;
	enum xvm_hc_shutdown_reason action; /* POWEROFF, REBOOT or CRASH */
};

/*
 * Grows the disk at `position` of a live (running or paused) domain to
 * size_bytes, a multiple of 512, and tells the guest at once (virtio-blk
 * raises a config change). A disk on the board's IDE/AHCI controller (a
 * position below 6 on q35, 4 on pc, given at start) is -EOPNOTSUPP: an IDE
 * guest learns a disk's size only when it probes the disk, at boot. A
 * smaller size is -EINVAL, the current one does nothing. What grows is the
 * image the guest writes to: after DISK_SNAPSHOT, the overlay.
 */
struct xvm_hc_disk_resize {
	struct xvm_hc_head head;
	uint32_t domid;
	uint32_t position;
	uint64_t size_bytes;
};

/*
 * A live external snapshot of the disk at `position` of a live domain: from
 * now on the guest writes to the overlay, and the image it used until now
 * becomes the overlay's read-only backing image. The caller has created the
 * overlay, without opening the image in use:
 *     qemu-img create -f qcow2 -b CURRENT -F CURRENT_FORMAT -u OVERLAY SIZE
 * with CURRENT, CURRENT_FORMAT and SIZE what DISK_GET_INFO reports. An
 * overlay that is missing, not qcow2, or whose backing file, backing format
 * or size is not the disk's is refused. Afterwards the domain records the
 * overlay as the disk's image, so that DISK_GET_INFO, DOMAIN_SAVE, a later
 * process re-adopting the domain and DEVICE_DETACH use it. On failure the
 * guest and the record are as they were.
 */
struct xvm_hc_disk_snapshot {
	struct xvm_hc_head head;
	uint32_t domid;
	uint32_t position;
	char overlay_path[XVM_HC_PATH_MAX]; /* a local file or an nfs:// URL */
	char overlay_format[16];            /* "qcow2" */
};

/* What the disk or CD drive at `position` of a live domain uses now. */
struct xvm_hc_disk_info {
	struct xvm_hc_head head;
	uint32_t domid;
	uint32_t position;
	struct xvm_hc_disk_config disk; /* out: as attached, with the path and format of the
					 * image the guest uses now (an overlay after DISK_SNAPSHOT) */
	uint64_t size_bytes;            /* out: the size the guest sees; 0 for an empty drive
					 * (and on sim, an image it cannot read) */
	bool resize_online;             /* out: DISK_RESIZE works on it (a writable virtio disk) */
};

/*
 * Removes the managed bridge `bridge` (as a NIC's managed_bridge names it)
 * if no port is left on it: its network is gone. A bridge that is not
 * there is no error; one with ports is -EBUSY, and stays.
 */
struct xvm_hc_bridge {
	struct xvm_hc_head head;
	char bridge[XVM_HC_BRIDGE_MAX];
};

/* Flags. */
#define XVM_HC_F_CREATE_KEEP_ON_FAILURE (1u << 0) /* DOMAIN_CREATE: debugging */
#define XVM_HC_F_INFO_BY_UUID (1u << 1)           /* DOMAIN_GET_INFO: find by uuid, not domid */
/* DOMAIN_CREATE: the guest runs at once; CREATE then UNPAUSE without the
 * round trip between them (a real guest starts booting meanwhile). */
#define XVM_HC_F_CREATE_RUNNING (1u << 2)
/* DOMAIN_SAVE: the domain lives on, running or paused as it was. */
#define XVM_HC_F_SAVE_KEEP (1u << 3)

/* --- Opening a backend -------------------------------------------------- */

/* backend: "sim" or "qemu"; state_dir: where the backend keeps its files. */
int xvm_hv_open(const char *backend, const char *state_dir, unsigned flags, struct xvm_hv **ret);
struct xvm_hv *xvm_hv_close(struct xvm_hv *hv);

/* The one entry point. Returns 0 or a negative errno. */
int xvm_hypercall(struct xvm_hv *hv, enum xvm_hc op, void *arg);

/* Human-readable detail of the calling thread's last failed hypercall or
 * xvm_hv_open() (per thread, so hv may be NULL). */
const char *xvm_hv_last_error(const struct xvm_hv *hv);

/* "domain_unpause" for XVM_HC_DOMAIN_UNPAUSE; NULL for an op out of range. */
const char *xvm_hc_op_name(enum xvm_hc op);

/* --- Tracing, counting, fault injection ----------------------------------- */

/* How many times op was entered on this handle. */
uint64_t xvm_hv_op_count(const struct xvm_hv *hv, enum xvm_hc op);

/*
 * Makes the `nth` (1-based) next call of `op` fail with `-err` without
 * reaching the backend; nth = 0 clears. The environment variable
 * XVM_HC_FAULT="op_name:nth:errno_name" (e.g. "domain_unpause:1:EIO") sets
 * the same at xvm_hv_open, so that a separate process (the CLI in a test) can
 * be made to fail. XVM_HC_TRACE=1 logs every hypercall.
 */
void xvm_hv_inject_fault(struct xvm_hv *hv, enum xvm_hc op, unsigned nth, int err);

typedef void (*xvm_hv_trace_fn)(void *userdata, const char *line);
void xvm_hv_set_trace(struct xvm_hv *hv, xvm_hv_trace_fn fn, void *userdata);
