/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Taps and bridges of the qemu backend with real QEMUs, each test in a
 * network namespace of its own (so nothing of the host's changes, and no
 * frame leaves): the tap vif<domid>.<position> on its bridge with the MTU,
 * held by QEMU alone; a managed bridge made for the first NIC and removed
 * with the last; a host bridge used, never made; a NIC hot-plugged through
 * an fd passed over QMP, and its removal.
 */
#define HVT_QEMU_FIXTURE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "hvtest.h"
#include "qemutest.h"

/* As `ip netns exec` does: a sysfs of the new namespace's, in a mount namespace of ours. */
static void own_netns(void)
{
	hvt_qemu_setup();
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		cr_skip_test("cannot make a network namespace: %s", strerror(errno));
	cr_assert_eq(mount("", "/", NULL, MS_PRIVATE | MS_REC, NULL), 0, "%s", strerror(errno));
	umount2("/sys", MNT_DETACH);
	cr_assert_eq(mount("sysfs", "/sys", "sysfs", 0, NULL), 0, "%s", strerror(errno));
}

TestSuite(net, .init = own_netns, .fini = hvt_qemu_teardown, .timeout = 120);

static bool iface(const char *name)
{
	char p[128];
	snprintf(p, sizeof p, "/sys/class/net/%s", name);
	return access(p, F_OK) == 0;
}

static bool port_of(const char *tap, const char *bridge)
{
	char p[128];
	snprintf(p, sizeof p, "/sys/class/net/%s/brif/%s", bridge, tap);
	return access(p, F_OK) == 0;
}

static int mtu_of(const char *name)
{
	char p[128];
	int v = -1;
	snprintf(p, sizeof p, "/sys/class/net/%s/mtu", name);
	FILE *f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* How many processes hold an fd on /dev/net/tun: the QEMUs (and the monitors, if they kept theirs). */
static int tun_holders(pid_t qemu, pid_t *other)
{
	int n = 0;
	DIR *proc = opendir("/proc");
	for (struct dirent *de; proc && (de = readdir(proc));) {
		pid_t pid = atoi(de->d_name);
		char p[300], link[64];
		if (pid <= 0)
			continue;
		snprintf(p, sizeof p, "/proc/%d/fd", pid);
		DIR *fds = opendir(p);
		bool holds = false;
		for (struct dirent *f; fds && !holds && (f = readdir(fds));) {
			snprintf(p, sizeof p, "/proc/%d/fd/%s", pid, f->d_name);
			ssize_t k = readlink(p, link, sizeof link - 1);
			holds = k > 0 && (link[k] = 0, strcmp(link, "/dev/net/tun") == 0);
		}
		if (fds)
			closedir(fds);
		if (holds) {
			n++;
			if (pid != qemu)
				*other = pid;
		}
	}
	if (proc)
		closedir(proc);
	return n;
}

static void bridged(struct xvm_hc_nic_config *n, uint32_t pos, const char *bridge, bool managed, uint32_t mtu)
{
	memset(n, 0, sizeof *n);
	n->position = pos;
	snprintf(n->mac, sizeof n->mac, "02:00:00:00:01:%02x", pos);
	snprintf(n->bridge, sizeof n->bridge, "%s", bridge);
	n->managed_bridge = managed;
	n->mtu = mtu;
}

Test(net, managed_bridge_and_tap_live_and_die_with_the_domain)
{
	REQUIRE_QEMU();
	hvt_guest_config(&cfg, 1, "idle");
	cfg.nnics = 2;
	bridged(&cfg.nics[0], 0, "xvmbrtest0", true, 1400);
	bridged(&cfg.nics[1], 1, "", false, 0); /* user-mode beside it */
	uint32_t domid;
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	char tap[32];
	snprintf(tap, sizeof tap, "vif%u.0", domid);
	cr_assert(port_of(tap, "xvmbrtest0"), "%s is not on the bridge", tap);
	cr_assert_eq(mtu_of(tap), 1400);
	cr_assert_eq(mtu_of("xvmbrtest0"), 1400);
	pid_t pid = (pid_t)hvt_info(hv, domid).pid, other = 0;
	cr_assert_eq(tun_holders(pid, &other), 1, "pid %d holds a tap too", (int)other);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	cr_assert_not(iface(tap), "the tap outlived its QEMU");
	cr_assert_not(iface("xvmbrtest0"), "the managed bridge outlived its last port");
}

Test(net, host_bridge_is_used_never_made_nor_removed)
{
	REQUIRE_QEMU();
	hvt_guest_config(&cfg, 1, "idle");
	cfg.nnics = 1;
	bridged(&cfg.nics[0], 0, "hostbr", false, 0);
	uint32_t domid = 0;
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), -ENODEV);
	cr_assert(strstr(xvm_hv_last_error(hv), "no bridge hostbr"), "%s", xvm_hv_last_error(hv));
	cr_assert_not(iface("hostbr"));
	cr_assert_eq(system("ip link add hostbr type bridge"), 0);
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	char tap[32];
	snprintf(tap, sizeof tap, "vif%u.0", domid);
	cr_assert(port_of(tap, "hostbr"));
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	cr_assert(iface("hostbr"), "a host bridge is not ours to remove");
	cr_assert_not(iface(tap));
}

Test(net, hotplug_through_a_passed_fd)
{
	REQUIRE_QEMU();
	uint32_t domid = hvt_start_guest(hv, 1, "idle");
	struct xvm_hc_device nic = { .head = XVM_HC_HEAD(0), .domid = domid, .type = XVM_HC_DEV_NIC };
	bridged(&nic.nic, 2, "xvmbrtest1", true, 0);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_DEVICE_ATTACH, &nic), 0, "%s", xvm_hv_last_error(hv));
	char tap[32];
	snprintf(tap, sizeof tap, "vif%u.2", domid);
	cr_assert(port_of(tap, "xvmbrtest1"));
	cr_assert_eq(mtu_of(tap), 1500);
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string("/machine/peripheral/nic2"));
	json_object_object_add(args, "property", json_object_new_string("mac"));
	struct json_object *mac = hvt_qmp(domid, "qom-get", args);
	cr_assert_str_eq(json_object_get_string(mac), "02:00:00:00:01:02");
	json_object_put(mac);
	pid_t other = 0;
	cr_assert_eq(tun_holders((pid_t)hvt_info(hv, domid).pid, &other), 1, "pid %d holds a tap too", (int)other);
	/* The test guest has no hot-plug support: it never lets go of the device. */
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	cr_assert_not(iface(tap));
	cr_assert_not(iface("xvmbrtest1"));
}

/* Another state dir's domain of the same domid holds vif<domid>.0: the NIC gets a tap the kernel names. */
Test(net, a_tap_name_in_use_elsewhere_is_no_failure)
{
	REQUIRE_QEMU();
	int held[4];
	for (int i = 0; i < 4; i++) {
		struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
		snprintf(ifr.ifr_name, IFNAMSIZ, "vif%d.0", i + 1);
		held[i] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		cr_assert(held[i] >= 0 && ioctl(held[i], TUNSETIFF, &ifr) == 0, "%s", strerror(errno));
	}
	hvt_guest_config(&cfg, 1, "idle");
	cfg.nnics = 1;
	bridged(&cfg.nics[0], 0, "xvmbrtest3", true, 0);
	uint32_t domid;
	cr_assert_eq(hvt_qemu_create(hv, &cfg, &domid), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_leq(domid, 4, "the test holds the names of domids 1..4 only");
	DIR *ports = opendir("/sys/class/net/xvmbrtest3/brif");
	cr_assert_not_null(ports);
	struct dirent *de;
	int found = 0;
	while ((de = readdir(ports)))
		if (*de->d_name != '.') {
			cr_assert(strncmp(de->d_name, "xvmtap", 6) == 0, "port %s", de->d_name);
			found++;
		}
	closedir(ports);
	cr_assert_eq(found, 1);
	cr_assert_eq(hvt_dom(hv, XVM_HC_DOMAIN_DESTROY, domid), 0);
	cr_assert_not(iface("xvmbrtest3"));
	for (int i = 0; i < 4; i++)
		close(held[i]);
}

/* What network.destroy asks: a managed bridge with no port goes; one with ports stays; one xvm did not
 * make (no mark in its ifalias) stays whatever it holds. */
Test(net, bridge_release)
{
	struct xvm_hc_bridge b = { .head = XVM_HC_HEAD(0), .bridge = "xvmbrtest2" };
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), 0, "a missing bridge is no error");
	cr_assert_eq(system("ip link add xvmbrtest2 type bridge"), 0);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), 0);
	cr_assert(iface("xvmbrtest2"), "an empty bridge xvm did not make was removed");
	cr_assert_eq(system("ip link set xvmbrtest2 alias 'xvm managed bridge' && "
			    "ip tuntap add dev xvmtap0 mode tap && ip link set xvmtap0 master xvmbrtest2"), 0);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), -EBUSY);
	cr_assert(iface("xvmbrtest2"));
	cr_assert_eq(system("ip link del xvmtap0"), 0);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), 0, "%s", xvm_hv_last_error(hv));
	cr_assert_not(iface("xvmbrtest2"));
	strcpy(b.bridge, "a,b");
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), -EINVAL);
	memset(b.bridge, 'x', sizeof b.bridge);
	cr_assert_eq(xvm_hypercall(hv, XVM_HC_BRIDGE_RELEASE, &b), -EINVAL);
}
