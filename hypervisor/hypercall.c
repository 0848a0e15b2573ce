/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend-independent side of the hypercall interface: backend
 * selection, ABI checks, per-op counting, fault injection, tracing and the
 * per-thread error detail. Every hypercall goes through xvm_hypercall(), so
 * this is the one place where all of that happens.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

static const struct xvm_hv_backend *const backends[] = {
	&xvm_hv_backend_sim,
	&xvm_hv_backend_qemu,
};

/* Name and the flags each op knows; any other flag bit is rejected. */
static const struct {
	const char *name;
	uint32_t flags;
} op_desc[XVM_HC_OP_MAX] = {
	[XVM_HC_HOST_INFO]            = { "host_info", 0 },
	[XVM_HC_DOMAIN_CREATE]        = { "domain_create", XVM_HC_F_CREATE_KEEP_ON_FAILURE | XVM_HC_F_CREATE_RUNNING },
	[XVM_HC_DOMAIN_UNPAUSE]       = { "domain_unpause", 0 },
	[XVM_HC_DOMAIN_PAUSE]         = { "domain_pause", 0 },
	[XVM_HC_DOMAIN_SHUTDOWN]      = { "domain_shutdown", 0 },
	[XVM_HC_DOMAIN_DESTROY]       = { "domain_destroy", 0 },
	[XVM_HC_DOMAIN_GET_INFO]      = { "domain_get_info", XVM_HC_F_INFO_BY_UUID },
	[XVM_HC_DOMAIN_LIST]          = { "domain_list", 0 },
	[XVM_HC_DOMAIN_SET_MEMORY]    = { "domain_set_memory", 0 },
	[XVM_HC_DOMAIN_SET_VCPUS]     = { "domain_set_vcpus", 0 },
	[XVM_HC_DOMAIN_VCPU_AFFINITY] = { "domain_vcpu_affinity", 0 },
	[XVM_HC_DEVICE_ATTACH]        = { "device_attach", 0 },
	[XVM_HC_DEVICE_DETACH]        = { "device_detach", 0 },
	[XVM_HC_MEDIA_CHANGE]         = { "media_change", 0 },
	[XVM_HC_DOMAIN_SAVE]          = { "domain_save", XVM_HC_F_SAVE_KEEP },
	[XVM_HC_DOMAIN_RESTORE]       = { "domain_restore", 0 },
	[XVM_HC_MIGRATE_SEND]         = { "migrate_send", 0 },
	[XVM_HC_MIGRATE_RECEIVE]      = { "migrate_receive", 0 },
	[XVM_HC_CONSOLE_OPEN]         = { "console_open", 0 },
	[XVM_HC_EVENT_FD]             = { "event_fd", 0 },
	[XVM_HC_EVENT_POLL]           = { "event_poll", 0 },
	[XVM_HC_GUEST_ACTION]         = { "guest_action", 0 },
	[XVM_HC_DISK_RESIZE]          = { "disk_resize", 0 },
	[XVM_HC_DISK_SNAPSHOT]        = { "disk_snapshot", 0 },
	[XVM_HC_DISK_GET_INFO]        = { "disk_get_info", 0 },
	[XVM_HC_BRIDGE_RELEASE]       = { "bridge_release", 0 },
};

struct fault {
	unsigned countdown; /* the call that brings it to 0 fails */
	int err;            /* positive errno */
};

struct xvm_hv {
	const struct xvm_hv_backend *backend;
	void *priv;
	_Atomic uint64_t count[XVM_HC_OP_MAX];
	pthread_mutex_t lock; /* guards fault[] and the trace settings */
	struct fault fault[XVM_HC_OP_MAX];
	xvm_hv_trace_fn trace_fn;
	void *trace_userdata;
	bool trace_stderr;
};

/* Per thread, so that concurrent callers each see their own failure. */
static _Thread_local char last_error[XVM_HC_ERROR_MAX];
static _Thread_local bool error_set;

void xvm_hv_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	error_set = true;
}

const char *xvm_hv_last_error(const struct xvm_hv *hv)
{
	return last_error;
}

const char *xvm_hc_op_name(enum xvm_hc op)
{
	if (op <= 0 || op >= XVM_HC_OP_MAX)
		return NULL;
	return op_desc[op].name;
}

static int op_by_name(const char *name, size_t len)
{
	for (int op = 1; op < XVM_HC_OP_MAX; op++)
		if (strlen(op_desc[op].name) == len && !strncmp(op_desc[op].name, name, len))
			return op;
	return -1;
}

/* glibc knows every errno's name; asking it avoids a table of our own. */
static int errno_by_name(const char *name)
{
	for (int e = 1; e < 256; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, name))
			return e;
	}
	return 0;
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* One "op_name:nth:ERRNO_NAME" item of XVM_HC_FAULT. */
static int parse_fault_item(struct xvm_hv *hv, char *item, bool seen[])
{
	char *c1 = strchr(item, ':');
	char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char *end;
	unsigned long nth;
	int op, err;

	if (!c2 || strchr(c2 + 1, ':'))
		goto malformed;
	op = op_by_name(item, c1 - item);
	if (op < 0) {
		xvm_hv_set_error("XVM_HC_FAULT: unknown hypercall '%.*s' in '%s'",
				 (int)(c1 - item), item, item);
		return -EINVAL;
	}
	if (seen[op]) {
		xvm_hv_set_error("XVM_HC_FAULT: '%s' is given twice", op_desc[op].name);
		return -EINVAL;
	}
	*c2 = '\0';
	errno = 0;
	nth = strtoul(c1 + 1, &end, 10);
	if (c1[1] < '0' || c1[1] > '9' || *end || errno || nth == 0 || nth > UINT_MAX) {
		*c2 = ':';
		xvm_hv_set_error("XVM_HC_FAULT: '%s': the call number must be an integer >= 1", item);
		return -EINVAL;
	}
	*c2 = ':';
	err = errno_by_name(c2 + 1);
	if (!err) {
		xvm_hv_set_error("XVM_HC_FAULT: '%s': unknown errno name '%s'", item, c2 + 1);
		return -EINVAL;
	}
	seen[op] = true;
	hv->fault[op] = (struct fault){ .countdown = nth, .err = err };
	return 0;

malformed:
	xvm_hv_set_error("XVM_HC_FAULT: '%s' is not op_name:nth:ERRNO_NAME", item);
	return -EINVAL;
}

/* XVM_HC_FAULT="op:nth:ERRNO[,op:nth:ERRNO...]"; a bad spec fails the open. */
static int parse_fault_env(struct xvm_hv *hv)
{
	const char *env = getenv("XVM_HC_FAULT");
	bool seen[XVM_HC_OP_MAX] = { false };
	char *copy, *item, *next;
	int r = 0;

	if (!env || !*env)
		return 0;
	copy = strdup(env);
	if (!copy) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	for (item = copy; item && r == 0; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		r = parse_fault_item(hv, item, seen);
	}
	free(copy);
	return r;
}

int xvm_hv_open(const char *backend, const char *state_dir, unsigned flags, struct xvm_hv **ret)
{
	const struct xvm_hv_backend *be = NULL;
	const char *trace;
	struct xvm_hv *hv;
	int r;

	error_set = false;
	if (!backend || !state_dir || !ret) {
		xvm_hv_set_error("xvm_hv_open: backend, state_dir and ret are required");
		return -EINVAL;
	}
	if (flags) {
		xvm_hv_set_error("xvm_hv_open: unknown flags 0x%x", flags);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (!strcmp(backends[i]->name, backend))
			be = backends[i];
	if (!be) {
		char built[128] = "";
		for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
			snprintf(built + strlen(built), sizeof built - strlen(built), "%s%s",
				 i ? ", " : "", backends[i]->name);
		xvm_hv_set_error("no hypervisor backend '%s' in this build (built: %s)", backend, built);
		return -EPROTONOSUPPORT;
	}

	hv = calloc(1, sizeof *hv);
	if (!hv) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&hv->lock, NULL);
	r = parse_fault_env(hv);
	if (r < 0)
		goto fail;
	trace = getenv("XVM_HC_TRACE");
	hv->trace_stderr = trace && *trace && strcmp(trace, "0");

	r = be->open(state_dir, &hv->priv);
	if (r < 0)
		goto fail;
	hv->backend = be;
	*ret = hv;
	return 0;

fail:
	pthread_mutex_destroy(&hv->lock);
	free(hv);
	return r;
}

struct xvm_hv *xvm_hv_close(struct xvm_hv *hv)
{
	if (!hv)
		return NULL;
	hv->backend->close(hv->priv);
	pthread_mutex_destroy(&hv->lock);
	free(hv);
	return NULL;
}

uint64_t xvm_hv_op_count(const struct xvm_hv *hv, enum xvm_hc op)
{
	if (!hv || op <= 0 || op >= XVM_HC_OP_MAX)
		return 0;
	return atomic_load_explicit(&hv->count[op], memory_order_relaxed);
}

void xvm_hv_inject_fault(struct xvm_hv *hv, enum xvm_hc op, unsigned nth, int err)
{
	if (!hv || op <= 0 || op >= XVM_HC_OP_MAX)
		return;
	if (err < 0)
		err = -err;
	pthread_mutex_lock(&hv->lock);
	hv->fault[op] = (struct fault){ .countdown = err ? nth : 0, .err = err };
	pthread_mutex_unlock(&hv->lock);
}

void xvm_hv_set_trace(struct xvm_hv *hv, xvm_hv_trace_fn fn, void *userdata)
{
	if (!hv)
		return;
	pthread_mutex_lock(&hv->lock);
	hv->trace_fn = fn;
	hv->trace_userdata = userdata;
	pthread_mutex_unlock(&hv->lock);
}

/*
 * The domid an op is about, for the trace; create and restore learn theirs
 * on success. A disk op's disk position too (else *position is untouched).
 */
static bool arg_domid(enum xvm_hc op, const void *arg, int r, uint32_t *domid, bool *has_position,
		      uint32_t *position)
{
	switch (op) {
	case XVM_HC_DOMAIN_UNPAUSE:
	case XVM_HC_DOMAIN_PAUSE:
	case XVM_HC_DOMAIN_DESTROY:
		*domid = ((const struct xvm_hc_domain *)arg)->domid;
		return true;
	case XVM_HC_DOMAIN_SHUTDOWN:
		*domid = ((const struct xvm_hc_domain_shutdown *)arg)->domid;
		return true;
	case XVM_HC_DOMAIN_GET_INFO:
		*domid = ((const struct xvm_hc_domain_info *)arg)->domid;
		return true;
	case XVM_HC_DOMAIN_SET_MEMORY:
		*domid = ((const struct xvm_hc_domain_memory *)arg)->domid;
		return true;
	case XVM_HC_DOMAIN_SET_VCPUS:
		*domid = ((const struct xvm_hc_domain_vcpus *)arg)->domid;
		return true;
	case XVM_HC_DOMAIN_VCPU_AFFINITY:
		*domid = ((const struct xvm_hc_vcpu_affinity *)arg)->domid;
		return true;
	case XVM_HC_DEVICE_ATTACH:
	case XVM_HC_DEVICE_DETACH:
		*domid = ((const struct xvm_hc_device *)arg)->domid;
		return true;
	case XVM_HC_MEDIA_CHANGE:
		*domid = ((const struct xvm_hc_media *)arg)->domid;
		return true;
	case XVM_HC_DOMAIN_SAVE:
		*domid = ((const struct xvm_hc_domain_save *)arg)->domid;
		return true;
	case XVM_HC_MIGRATE_SEND:
	case XVM_HC_MIGRATE_RECEIVE:
		*domid = ((const struct xvm_hc_migrate *)arg)->domid;
		return true;
	case XVM_HC_CONSOLE_OPEN:
		*domid = ((const struct xvm_hc_console *)arg)->domid;
		return true;
	case XVM_HC_GUEST_ACTION:
		*domid = ((const struct xvm_hc_guest_action *)arg)->domid;
		return true;
	case XVM_HC_DISK_RESIZE:
		*domid = ((const struct xvm_hc_disk_resize *)arg)->domid;
		*position = ((const struct xvm_hc_disk_resize *)arg)->position;
		return *has_position = true;
	case XVM_HC_DISK_SNAPSHOT:
		*domid = ((const struct xvm_hc_disk_snapshot *)arg)->domid;
		*position = ((const struct xvm_hc_disk_snapshot *)arg)->position;
		return *has_position = true;
	case XVM_HC_DISK_GET_INFO:
		*domid = ((const struct xvm_hc_disk_info *)arg)->domid;
		*position = ((const struct xvm_hc_disk_info *)arg)->position;
		return *has_position = true;
	case XVM_HC_DOMAIN_CREATE:
		*domid = ((const struct xvm_hc_domain_create *)arg)->domid;
		return r == 0;
	case XVM_HC_DOMAIN_RESTORE:
		*domid = ((const struct xvm_hc_domain_restore *)arg)->domid;
		return r == 0;
	default:
		return false;
	}
}

static void trace(xvm_hv_trace_fn fn, void *userdata, enum xvm_hc op, const void *arg, int r)
{
	char line[XVM_HC_ERROR_MAX + 256];
	char opbuf[32], dom[64] = "";
	const char *name = xvm_hc_op_name(op);
	uint32_t domid, position;
	bool has_position = false;

	if (!name) {
		snprintf(opbuf, sizeof opbuf, "op#%d", (int)op);
		name = opbuf;
	} else if (arg && arg_domid(op, arg, r, &domid, &has_position, &position)) {
		snprintf(dom, sizeof dom, " domid=%u", domid);
		if (has_position)
			snprintf(dom + strlen(dom), sizeof dom - strlen(dom), " position=%u", position);
	}
	if (r == 0)
		snprintf(line, sizeof line, "%s%s -> 0", name, dom);
	else
		snprintf(line, sizeof line, "%s%s -> -%s: %s", name, dom, errno_name(-r), last_error);
	if (fn)
		fn(userdata, line);
	else
		fprintf(stderr, "xvm_hypercall: %s\n", line);
}

/* ABI checks shared by every op; the op is in range. */
static int check_arg(enum xvm_hc op, const void *arg)
{
	const struct xvm_hc_head *head = arg;

	if (!arg) {
		xvm_hv_set_error("%s: NULL argument", op_desc[op].name);
		return -EFAULT;
	}
	if (head->version != XVM_HC_ABI_VERSION) {
		xvm_hv_set_error("%s: caller speaks hypercall ABI version %u, this hypervisor layer %u",
				 op_desc[op].name, head->version, XVM_HC_ABI_VERSION);
		return -EPROTO;
	}
	if (head->flags & ~op_desc[op].flags) {
		xvm_hv_set_error("%s: unknown flags 0x%x", op_desc[op].name,
				 head->flags & ~op_desc[op].flags);
		return -EINVAL;
	}
	return 0;
}

int xvm_hypercall(struct xvm_hv *hv, enum xvm_hc op, void *arg)
{
	xvm_hv_trace_fn trace_fn;
	void *trace_userdata;
	bool tracing;
	int fault = 0;
	int r;

	error_set = false;
	if (!hv) {
		xvm_hv_set_error("xvm_hypercall: NULL handle");
		return -EINVAL;
	}
	if (op <= 0 || op >= XVM_HC_OP_MAX) {
		xvm_hv_set_error("unknown hypercall op %d", (int)op);
		r = -ENOSYS;
	} else {
		atomic_fetch_add_explicit(&hv->count[op], 1, memory_order_relaxed);
		r = check_arg(op, arg);
		if (r == 0 && !hv->backend->op[op]) {
			const char *why = hv->backend->why_not[op];
			xvm_hv_set_error("%s: not supported by the %s backend%s%s", op_desc[op].name,
					 hv->backend->name, why ? ": " : "", why ? why : "");
			r = -EOPNOTSUPP;
		}
	}

	pthread_mutex_lock(&hv->lock);
	if (r == 0 && hv->fault[op].countdown && --hv->fault[op].countdown == 0)
		fault = hv->fault[op].err;
	trace_fn = hv->trace_fn;
	trace_userdata = hv->trace_userdata;
	tracing = trace_fn || hv->trace_stderr;
	pthread_mutex_unlock(&hv->lock);

	if (fault) {
		xvm_hv_set_error("%s: injected fault %s", op_desc[op].name, errno_name(fault));
		r = -fault;
	} else if (r == 0) {
		r = hv->backend->op[op](hv->priv, arg);
	}

	if (r < 0 && !error_set)
		xvm_hv_set_error("%s: %s", xvm_hc_op_name(op) ? xvm_hc_op_name(op) : "hypercall",
				 strerror(-r));
	if (tracing)
		trace(trace_fn, trace_userdata, op, arg, r);
	return r;
}
