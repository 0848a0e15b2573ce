/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU's command line for a domain. User-given strings (paths, names) go
 * into QEMU's JSON option syntax where QEMU has one, and have their commas
 * doubled where it has not, so that no path can smuggle in an option.
 *
 * Shape: paused (-S), no defaults, a QMP socket for commands and one for
 * the monitor helper, the serial port on a unix socket with a log of this
 * boot, VNC (and its websocket) on loopback at the first free display,
 * guest poweroff/reboot/panic leave QEMU alive and stopped (-action) so the
 * reason can be read, vCPUs 1.. as hot-pluggable devices, a balloon.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_check.h"
#include "qemu.h"

struct argv {
	char **v;
	size_t n, cap;
	bool oom;
};

static void add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		char **grown = realloc(a->v, (a->cap = a->cap ? 2 * a->cap : 64) * sizeof *grown);
		if (!grown) {
			a->oom = true;
			return;
		}
		a->v = grown;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		a->oom = true;
	else
		a->v[a->n++] = s;
	va_end(ap);
	a->v[a->n] = NULL;
}

static void add_json(struct argv *a, const char *opt, struct json_object *o)
{
	add(a, "%s", opt);
	add(a, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* QEMU's option syntax ends a value at a single comma; ",," is a literal one. */
static char *esc(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *out = malloc(2 * n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[k++] = s[i];
		if (s[i] == ',')
			out[k++] = ',';
	}
	out[k] = '\0';
	return out;
}

void qemu_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

const char *qemu_cpu_type(enum xvm_hc_accel accel)
{
	return accel == XVM_HC_ACCEL_KVM ? "host-x86_64-cpu" : "qemu64-x86_64-cpu";
}

static bool q35(const struct qdom *d)
{
	return strcmp(d->cfg.machine, "pc") != 0;
}

struct json_object *qemu_nic_device(const struct xvm_hc_nic_config *n)
{
	struct json_object *o = json_object_new_object();
	char id[32];

	bool virtio = n->model != XVM_HC_NIC_E1000;

	json_object_object_add(o, "driver", json_object_new_string(virtio ? "virtio-net-pci" : "e1000"));
	snprintf(id, sizeof id, "net%u", n->position);
	json_object_object_add(o, "netdev", json_object_new_string(id));
	snprintf(id, sizeof id, "nic%u", n->position);
	json_object_object_add(o, "id", json_object_new_string(id));
	if (*n->mac)
		json_object_object_add(o, "mac", json_object_new_string(n->mac));
	/* virtio tells the guest the network's MTU; e1000 has no way to. */
	if (virtio && n->mtu)
		json_object_object_add(o, "host_mtu", json_object_new_int((int)n->mtu));
	return o;
}

/* Positions on the board's IDE/AHCI ports, as an HVM guest expects; the rest virtio. */
struct json_object *qemu_disk_device(const struct qdom *d, const struct xvm_hc_disk_config *disk, bool hotplug)
{
	struct json_object *o = json_object_new_object();
	uint32_t p = disk->position;
	char id[32], drv[QEMU_NODE_NAME_MAX], ide[16];

	snprintf(id, sizeof id, "disk%u", p);
	qemu_node_name(drv, "drv", p, 0);
	if (hv_disk_on_ide(d->cfg.machine, p, hotplug)) {
		json_object_object_add(o, "driver", json_object_new_string(disk->kind == XVM_HC_CDROM ? "ide-cd" : "ide-hd"));
		snprintf(ide, sizeof ide, "ide.%u", q35(d) ? p : p / 2);
		json_object_object_add(o, "bus", json_object_new_string(ide));
		if (!q35(d))
			json_object_object_add(o, "unit", json_object_new_int(p % 2));
	} else {
		json_object_object_add(o, "driver", json_object_new_string("virtio-blk-pci"));
	}
	if (*disk->path)
		json_object_object_add(o, "drive", json_object_new_string(drv));
	json_object_object_add(o, "id", json_object_new_string(id));
	return o;
}

static int add_disks(struct argv *a, const struct qdom *d)
{
	uint32_t ports = hv_ide_ports(d->cfg.machine);

	for (uint32_t i = 0; i < d->cfg.ndisks; i++) {
		const struct xvm_hc_disk_config *disk = &d->cfg.disks[i];
		if (disk->kind == XVM_HC_CDROM && disk->position >= ports) {
			xvm_hv_set_error("CD drive at position %u: a %s machine has CD drives at positions 0..%u only",
					 disk->position, q35(d) ? "q35" : "pc", ports - 1);
			return -EINVAL;
		}
		if (*disk->path) {
			add_json(a, "-blockdev", qemu_disk_file_node(disk, 0));
			add_json(a, "-blockdev", qemu_disk_format_node(disk, 0));
		}
		add_json(a, "-device", qemu_disk_device(d, disk, false));
	}
	return 0;
}

static int add_nics(struct argv *a, const struct qdom *d)
{
	for (uint32_t i = 0; i < d->cfg.nnics; i++) {
		const struct xvm_hc_nic_config *n = &d->cfg.nics[i];

		if (*n->bridge && d->tap_fds[i] < 0) {
			xvm_hv_set_error("nic %u: no tap is open for bridge %s", n->position, n->bridge);
			return -EBADF;
		}

		add(a, "-netdev");
		/* The tap we opened and QEMU inherits (net.c); without a bridge, QEMU's own NAT. */
		if (*n->bridge)
			add(a, "tap,id=net%u,fd=%d", n->position, d->tap_fds[i]);
		else
			add(a, "user,id=net%u", n->position);
		add_json(a, "-device", qemu_nic_device(n));
	}
	return 0;
}

static void add_vcpus(struct argv *a, const struct qdom *d)
{
	uint32_t max = d->cfg.vcpus_max;

	/* One socket per vCPU, so that vCPU k is socket k and may come and go. */
	add(a, "-smp");
	add(a, "1,sockets=%u,cores=1,threads=1,maxcpus=%u", max, max);
	for (uint32_t k = 1; k < d->cfg.vcpus_online; k++) {
		struct json_object *o = json_object_new_object();
		char id[32];

		snprintf(id, sizeof id, "vcpu%u", k);
		json_object_object_add(o, "driver", json_object_new_string(qemu_cpu_type(d->accel)));
		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "socket-id", json_object_new_int(k));
		json_object_object_add(o, "core-id", json_object_new_int(0));
		json_object_object_add(o, "thread-id", json_object_new_int(0));
		add_json(a, "-device", o);
	}
}

static int add_boot(struct argv *a, const struct qdom *d)
{
	char code[PATH_MAX], vars[PATH_MAX], *e1, *e2;
	int r;

	if (d->cfg.boot == XVM_HC_BOOT_DIRECT_KERNEL) {
		add(a, "-kernel");
		add(a, "%s", d->cfg.kernel);
		if (*d->cfg.ramdisk) {
			add(a, "-initrd");
			add(a, "%s", d->cfg.ramdisk);
		}
		if (*d->cfg.cmdline) {
			add(a, "-append");
			add(a, "%s", d->cfg.cmdline);
		}
		return 0;
	}
	if (*d->cfg.boot_order) {
		add(a, "-boot");
		add(a, "order=%s", d->cfg.boot_order);
	}
	if (strcmp(d->cfg.firmware, "uefi"))
		return 0;
	if ((r = qemu_ovmf_paths(d->cfg.secure_boot, code, vars)) < 0)
		return r;
	e1 = esc(code);
	e2 = esc(qemu_path(vars, d, "OVMF_VARS.fd"));
	if (e1 && e2) {
		/* Only SMM code may write the variables: what makes secure boot hold. */
		if (d->cfg.secure_boot) {
			add(a, "-global");
			add(a, "driver=cfi.pflash01,property=secure,value=on");
		}
		add(a, "-drive");
		add(a, "if=pflash,format=raw,unit=0,readonly=on,file=%s", e1);
		add(a, "-drive");
		add(a, "if=pflash,format=raw,unit=1,file=%s", e2);
	} else {
		a->oom = true;
	}
	free(e1);
	free(e2);
	return 0;
}

static void add_chardev(struct argv *a, const struct qdom *d, const char *id, const char *sock, const char *log)
{
	char p[PATH_MAX], l[PATH_MAX];
	char *ep = esc(qemu_path(p, d, sock)), *el = log ? esc(qemu_path(l, d, log)) : NULL;

	if (!ep || (log && !el)) {
		a->oom = true;
	} else {
		add(a, "-chardev");
		if (log)
			add(a, "socket,id=%s,path=%s,server=on,wait=off,logfile=%s,logappend=off", id, ep, el);
		else
			add(a, "socket,id=%s,path=%s,server=on,wait=off", id, ep);
	}
	free(ep);
	free(el);
}

/* TPM 2.0 through swtpm's control socket: CRB on q35 (what Windows 11 expects), TIS on pc. */
static void add_tpm(struct argv *a, const struct qdom *d)
{
	char p[PATH_MAX], *ep;

	if (!*d->cfg.vtpm_dir)
		return;
	/* QEMU is the client of swtpm's socket, which the monitor saw open. */
	if (!(ep = esc(qemu_path(p, d, "swtpm.sock")))) {
		a->oom = true;
		return;
	}
	add(a, "-chardev");
	add(a, "socket,id=chrtpm,path=%s", ep);
	free(ep);
	add(a, "-tpmdev");
	add(a, "emulator,id=tpm0,chardev=chrtpm");
	add(a, "-device");
	add(a, "%s,tpmdev=tpm0", q35(d) ? "tpm-crb" : "tpm-tis");
}

int qemu_swtpm_cmdline(const struct qdom *d, const char *binary, char ***ret)
{
	struct argv a = { 0 };
	char p[PATH_MAX];

	/* swtpm's options have no escape for a comma (the state dir was checked for one). */
	if (strchr(d->dir, ',')) {
		xvm_hv_set_error("the run dir %s holds a comma, which swtpm's options cannot take", d->dir);
		return -EINVAL;
	}
	add(&a, "%s", binary);
	add(&a, "socket");
	add(&a, "--tpm2");
	add(&a, "--tpmstate");
	add(&a, "dir=%s,mode=0600", d->cfg.vtpm_dir);
	add(&a, "--ctrl");
	add(&a, "type=unixio,path=%s,mode=0600", qemu_path(p, d, "swtpm.sock"));
	add(&a, "--log");
	add(&a, "file=%s,level=1", qemu_path(p, d, "swtpm.log"));
	/* Ends when QEMU closes its connection, however QEMU ends. */
	add(&a, "--terminate");
	if (a.oom) {
		qemu_argv_free(a.v);
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	*ret = a.v;
	return 0;
}

int qemu_cmdline(const struct qdom *d, const char *binary, const char *incoming, char ***ret)
{
	struct argv a = { 0 };
	char *name = esc(d->cfg.name);
	int r = 0;

	add(&a, "%s", binary);
	add(&a, "-name");
	add(&a, "guest=%s,debug-threads=on", name ? name : "");
	free(name);
	add(&a, "-uuid");
	add(&a, "%s", d->cfg.uuid);
	add(&a, "-machine");
	add(&a, "%s,accel=%s%s%s", q35(d) ? "q35" : "pc", d->accel == XVM_HC_ACCEL_KVM ? "kvm" : "tcg",
	    d->cfg.acpi ? "" : ",acpi=off", d->cfg.secure_boot ? ",smm=on" : "");
	add(&a, "-cpu");
	/* Windows' Hyper-V enlightenments, as xapi's platform:viridian turns on. */
	add(&a, "%s%s", d->accel == XVM_HC_ACCEL_KVM ? "host" : "qemu64",
	    d->cfg.viridian ? ",hv_relaxed,hv_vapic,hv_spinlocks=0x1fff,hv_time" : "");
	add_vcpus(&a, d);
	add(&a, "-m");
	add(&a, "%llu", (unsigned long long)(d->cfg.memory_static_max_kib / 1024));
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	if (!d->run_at_start)
		add(&a, "-S");
	add(&a, "-display");
	add(&a, "none");
	add_chardev(&a, d, "qmp", "qmp.sock", NULL);
	add(&a, "-mon");
	add(&a, "chardev=qmp,mode=control");
	add_chardev(&a, d, "qmpmon", "qmp-mon.sock", NULL);
	add(&a, "-mon");
	add(&a, "chardev=qmpmon,mode=control");
	add_chardev(&a, d, "serial0", "console.sock", "serial.log");
	add(&a, "-serial");
	add(&a, "chardev:serial0");
	add(&a, "-vnc");
	add(&a, "127.0.0.1:0,to=99,websocket=on");
	add(&a, "-device");
	add(&a, "VGA");
	add(&a, "-action");
	add(&a, "reboot=shutdown,shutdown=pause,panic=pause");
	add(&a, "-device");
	add(&a, "pvpanic");
	add(&a, "-device");
	add(&a, "virtio-balloon-pci,id=balloon0");
	if (d->cfg.usb_tablet) {
		add(&a, "-device");
		add(&a, "qemu-xhci,id=usb");
		add(&a, "-device");
		add(&a, "usb-tablet,bus=usb.0");
	}
	if (q35(d))
		for (int i = 0; i < QEMU_HOTPLUG_PORTS; i++) {
			add(&a, "-device");
			add(&a, "pcie-root-port,id=hp%d,chassis=%d,bus=pcie.0", i, i + 1);
		}
	add_tpm(&a, d);
	if ((r = add_boot(&a, d)) == 0 && (r = add_disks(&a, d)) == 0)
		r = add_nics(&a, d);
	if (incoming) {
		add(&a, "-incoming");
		add(&a, "%s", incoming);
	}
	if (r == 0 && a.oom) {
		xvm_hv_set_error("out of memory");
		r = -ENOMEM;
	}
	if (r < 0) {
		qemu_argv_free(a.v);
		return r;
	}
	*ret = a.v;
	return 0;
}
