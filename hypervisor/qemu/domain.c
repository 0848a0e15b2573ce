/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A domain's life: create (QEMU started paused), unpause, pause, the
 * shutdown request, destroy. Each op that changes a domain holds the
 * domain's lock, so that two processes cannot, say, destroy it at once.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"
#include "qmp.h"

int qemu_dom_open_locked(struct qemu *qm, uint32_t domid, struct qdom **ret)
{
	struct qdom *d = qemu_dom_new();
	int r;

	if (!d)
		return -ENOMEM;
	r = qemu_dom_load(qm, domid, d);
	if (r == 0)
		r = qemu_dom_lock(d);
	/* Read again under the lock: whoever held it may have changed or destroyed it. */
	if (r == 0)
		r = qemu_dom_load(qm, domid, d);
	if (r < 0) {
		qemu_dom_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int qemu_dom_live(const struct qdom *d, struct qmp **ret)
{
	enum xvm_hc_shutdown_reason why;
	uint64_t seq;

	if (qemu_read_stop(d->dir, &why, &seq)) {
		xvm_hv_set_error("domain %u has shut down (%s); only destroy is left to do", d->domid,
				 qemu_reason_name(why));
		return -EINVAL;
	}
	if (!qemu_alive(d, NULL)) {
		xvm_hv_set_error("domain %u: its QEMU is gone (crashed); only destroy is left to do", d->domid);
		return -EINVAL;
	}
	return qemu_qmp(d, ret);
}

/* The current run state as QEMU names it ("running", "paused", "shutdown", ...). */
static int run_status(struct qmp *q, char *buf, size_t size)
{
	struct json_object *st, *v;
	int r = qmp_command(q, "query-status", NULL, &st);

	if (r < 0)
		return r;
	snprintf(buf, size, "%s", json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "");
	json_object_put(st);
	return 0;
}

int qemu_apply_affinity(const struct qemu *qm, const struct qdom *d, struct qmp *q)
{
	struct json_object *cpus, *v;
	int r = qmp_command(q, "query-cpus-fast", NULL, &cpus);

	if (r < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(cpus); i++) {
		struct json_object *c = json_object_array_get_idx(cpus, i);
		uint64_t mask;
		int64_t k, tid;
		cpu_set_t set;

		if (!json_object_object_get_ex(c, "cpu-index", &v) || (k = json_object_get_int64(v)) < 0 ||
		    k >= XVM_HC_MAX_VCPUS || !json_object_object_get_ex(c, "thread-id", &v) ||
		    (tid = json_object_get_int64(v)) <= 0)
			continue;
		mask = d->cfg.vcpu_affinity[k] ? d->cfg.vcpu_affinity[k] : qemu_host_cpumask(&qm->host);
		CPU_ZERO(&set);
		for (int cpu = 0; cpu < 64; cpu++)
			if (mask & (UINT64_C(1) << cpu))
				CPU_SET(cpu, &set);
		if (sched_setaffinity((pid_t)tid, sizeof set, &set) < 0) {
			r = -errno;
			xvm_hv_set_error("cannot pin vcpu %" PRId64 " (thread %" PRId64 ") of domain %u: %s",
					 k, tid, d->domid, strerror(-r));
			break;
		}
	}
	json_object_put(cpus);
	return r;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	ssize_t n;

	if (in >= 0)
		out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n) {
			n = -1;
			break;
		}
	if (in < 0 || out < 0 || n < 0)
		r = errno ? -errno : -EIO;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && !r)
		r = -errno;
	if (r)
		xvm_hv_set_error("cannot copy %s to %s: %s", from, to, strerror(-r));
	return r;
}

/* VNC's ports, which QEMU picked from the first free display. */
static void read_vnc_ports(struct qdom *d, struct qmp *q)
{
	struct json_object *servers, *v;

	if (qmp_command(q, "query-vnc-servers", NULL, &servers) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(servers); i++) {
		struct json_object *list;
		if (!json_object_object_get_ex(json_object_array_get_idx(servers, i), "server", &list))
			continue;
		for (size_t j = 0; j < json_object_array_length(list); j++) {
			struct json_object *s = json_object_array_get_idx(list, j);
			int port = json_object_object_get_ex(s, "service", &v) ? atoi(json_object_get_string(v)) : 0;
			bool ws = json_object_object_get_ex(s, "websocket", &v) && json_object_get_boolean(v);
			if (ws)
				d->ws_port = port;
			else
				d->vnc_port = port;
		}
	}
	json_object_put(servers);
}

int qemu_dom_start(struct qemu *qm, struct qdom *d, const char *incoming, struct qmp **ret)
{
	char bin[PATH_MAX], code[PATH_MAX], vars[PATH_MAX], p[PATH_MAX];
	struct qmp *q = NULL;
	char **argv = NULL, **tpm_argv = NULL;
	int r;

	if (strlen(d->dir) + sizeof "/qmp-mon.sock" > sizeof ((struct sockaddr_un *)0)->sun_path) {
		xvm_hv_set_error("state dir %s is too deep: its unix sockets would exceed %zu bytes",
				 qm->state_dir, sizeof ((struct sockaddr_un *)0)->sun_path);
		return -ENAMETOOLONG;
	}
	if ((r = qemu_binary(bin)) < 0)
		return r;
	if (!strcmp(d->cfg.firmware, "uefi") && access(qemu_path(p, d, "OVMF_VARS.fd"), F_OK) < 0 &&
	    ((r = qemu_ovmf_paths(d->cfg.secure_boot, code, vars)) < 0 || (r = copy_file(vars, p)) < 0))
		return r;
	if (*d->cfg.vtpm_dir && ((r = qemu_swtpm_binary(p)) < 0 || (r = qemu_swtpm_cmdline(d, p, &tpm_argv)) < 0))
		return r;
	if ((r = qemu_taps_open(qm, d)) < 0) {
		qemu_argv_free(tpm_argv);
		return r;
	}
	if ((r = qemu_cmdline(d, bin, incoming, &argv)) < 0) {
		qemu_taps_close(d);
		qemu_argv_free(tpm_argv);
		return r;
	}
	r = qemu_dom_store(d);
	if (r == 0)
		r = qemu_spawn(qm, d, tpm_argv, argv);
	/* QEMU holds the taps now: they live as long as it does. */
	qemu_taps_close(d);
	if (r == 0 && (r = qemu_wait_ready(d, QEMU_START_TIMEOUT_MS, &q)) == 0) {
		read_vnc_ports(d, q);
		if ((r = qemu_dom_store(d)) == 0)
			r = qemu_apply_affinity(qm, d, q);
	}
	qemu_argv_free(argv);
	qemu_argv_free(tpm_argv);
	if (r < 0) {
		qmp_close(q);
		return qemu_startup_failure(d, r);
	}
	*ret = q;
	return 0;
}

int qemu_op_domain_create(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_domain_create *a = arg;
	char path[PATH_MAX];
	struct qdom *d;
	struct qmp *q;
	int r;

	if (!a->config) {
		xvm_hv_set_error("domain_create: no config");
		return -EFAULT;
	}
	/* Everything that can be checked before a process is started is. */
	if ((r = qemu_config_check(a->config, &qm->host)) < 0 || (r = qemu_binary(path)) < 0 ||
	    (r = qemu_monitor_binary(path)) < 0)
		return r;
	if (!(d = qemu_dom_new()))
		return -ENOMEM;
	d->cfg = *a->config;
	/* Lower case, so that the one-domain-per-uuid rule cannot be fooled by case. */
	for (int i = 0; i < XVM_UUID_STRLEN; i++)
		d->cfg.uuid[i] = tolower((unsigned char)d->cfg.uuid[i]);
	d->accel = qm->host.accel;
	d->memory_target_kib = d->cfg.memory_target_kib;
	d->start_time = time(NULL);
	d->run_at_start = a->head.flags & XVM_HC_F_CREATE_RUNNING;
	if ((r = qemu_admit(qm, d)) < 0) {
		qemu_dom_free(d);
		return r;
	}
	r = qemu_dom_start(qm, d, NULL, &q);
	if (r == 0 && d->memory_target_kib < d->cfg.memory_static_max_kib)
		r = qmp_commandf(q, NULL, "balloon", "{\"value\": %" PRIu64 "}", d->memory_target_kib * 1024);
	if (r == 0) {
		qmp_close(q);
		a->domid = d->domid;
	} else if (!(a->head.flags & XVM_HC_F_CREATE_KEEP_ON_FAILURE)) {
		char p[PATH_MAX];
		close(open(qemu_path(p, d, "destroying"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		qemu_stop(d, false);
		qemu_forget(qm, d);
	}
	qemu_dom_free(d);
	return r;
}

static int set_run_state(struct qemu *qm, uint32_t domid, bool run)
{
	char status[32];
	struct qdom *d;
	struct qmp *q = NULL;
	int r;

	if ((r = qemu_dom_open_locked(qm, domid, &d)) < 0)
		return r;
	if ((r = qemu_dom_live(d, &q)) == 0 && (r = run_status(q, status, sizeof status)) == 0) {
		if (!strcmp(status, "shutdown") || !strcmp(status, "guest-panicked") ||
		    !strcmp(status, "internal-error")) {
			xvm_hv_set_error("domain %u has shut down (%s); only destroy is left to do", domid, status);
			r = -EINVAL;
		} else if (run && strcmp(status, "running")) {
			r = qmp_command(q, "cont", NULL, NULL);
		} else if (!run && !strcmp(status, "running")) {
			r = qmp_command(q, "stop", NULL, NULL);
		}
	}
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}

int qemu_op_domain_unpause(void *priv, void *arg)
{
	return set_run_state(priv, ((struct xvm_hc_domain *)arg)->domid, true);
}

int qemu_op_domain_pause(void *priv, void *arg)
{
	return set_run_state(priv, ((struct xvm_hc_domain *)arg)->domid, false);
}

/* QEMU can press the ACPI power button; it has no way to ask a guest to reboot. */
int qemu_op_domain_shutdown(void *priv, void *arg)
{
	struct xvm_hc_domain_shutdown *a = arg;
	struct qdom *d;
	struct qmp *q = NULL;
	int r;

	if (a->reason == XVM_HC_SHUTDOWN_REBOOT) {
		xvm_hv_set_error("QEMU cannot ask a guest to reboot (there is no guest agent); "
				 "reboot it hard, or ask it to power off and start it again");
		return -EOPNOTSUPP;
	}
	if (a->reason == XVM_HC_SHUTDOWN_SUSPEND) {
		xvm_hv_set_error("QEMU cannot ask a guest to suspend itself; save the domain instead");
		return -EOPNOTSUPP;
	}
	if (a->reason != XVM_HC_SHUTDOWN_POWEROFF) {
		xvm_hv_set_error("a guest can be asked to power off, reboot or suspend, not %d", (int)a->reason);
		return -EINVAL;
	}
	if ((r = qemu_dom_open_locked(priv, a->domid, &d)) < 0)
		return r;
	if ((r = qemu_dom_live(d, &q)) == 0)
		r = qmp_command(q, "system_powerdown", NULL, NULL);
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}

int qemu_op_domain_destroy(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_domain *a = arg;
	char p[PATH_MAX];
	struct qdom *d;
	int r;

	if ((r = qemu_dom_open_locked(qm, a->domid, &d)) < 0)
		return r;
	/* The monitor must not report what we do as the guest's doing. */
	close(open(qemu_path(p, d, "destroying"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	qemu_stop(d, true);
	qemu_forget(qm, d);
	qemu_dom_free(d);
	return 0;
}
