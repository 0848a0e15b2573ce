/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of a domain's NICs, as libvirt does it: we open each tap
 * (vif<domid>.<position>), set its MTU, add it to its bridge and bring it
 * up, and QEMU gets the open fd; no setuid helper, and the tap goes when
 * QEMU closes it. A managed bridge is made when a NIC first needs it and
 * removed once no port is left; every other bridge is the host's, only
 * used: a bridge we made carries our mark in its ifalias, and no bridge
 * without it is ever removed. Plain ioctls: no netlink library for four
 * operations.
 *
 * run/qemu/bridges.lock serializes making, filling and removing bridges,
 * so that a bridge is never removed between its making and its first port.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "config_check.h"
#include "qemu.h"

static int bridges_lock(const struct qemu *qm)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s/bridges.lock", qm->run_dir);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void bridges_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int ifreq_ioctl(int sock, unsigned long req, const char *name, struct ifreq *ifr, const char *what)
{
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(sock, req, ifr) < 0) {
		int r = -errno;
		xvm_hv_set_error("%s %s: %s", what, name, strerror(-r));
		return r;
	}
	return 0;
}

static int set_mtu(int sock, const char *name, uint32_t mtu)
{
	struct ifreq ifr = { .ifr_mtu = (int)(mtu ? mtu : 1500) };

	return ifreq_ioctl(sock, SIOCSIFMTU, name, &ifr, "cannot set the MTU of");
}

static int set_up(int sock, const char *name, bool up)
{
	struct ifreq ifr = { 0 };
	int r = ifreq_ioctl(sock, SIOCGIFFLAGS, name, &ifr, "cannot read the flags of");

	if (r < 0)
		return r;
	ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
	return ifreq_ioctl(sock, SIOCSIFFLAGS, name, &ifr, up ? "cannot bring up" : "cannot bring down");
}

/* Private links speak only to the guests on them: no IPv6 address of the host's own. */
static void no_ipv6(const char *name)
{
	char p[128];
	int fd;

	snprintf(p, sizeof p, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "1", 1);
		close(fd);
	}
}

/* What a bridge we made says in /sys/class/net/NAME/ifalias. */
#define BRIDGE_MARK "xvm managed bridge"

static bool mark_bridge(const char *name)
{
	char p[128];
	int fd;
	bool ok;

	snprintf(p, sizeof p, "/sys/class/net/%s/ifalias", name);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	ok = fd >= 0 && write(fd, BRIDGE_MARK, strlen(BRIDGE_MARK)) == (ssize_t)strlen(BRIDGE_MARK);
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool marked_bridge(const char *name)
{
	char p[128], alias[64];
	ssize_t n;
	int fd;

	snprintf(p, sizeof p, "/sys/class/net/%s/ifalias", name);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, alias, sizeof alias - 1);
	close(fd);
	if (n <= 0)
		return false;
	alias[n] = '\0';
	alias[strcspn(alias, "\n")] = '\0';
	return strcmp(alias, BRIDGE_MARK) == 0;
}

static bool exists(const char *name)
{
	char p[128];

	snprintf(p, sizeof p, "/sys/class/net/%s", name);
	return access(p, F_OK) == 0;
}

static bool is_bridge(const char *name)
{
	char p[128];

	snprintf(p, sizeof p, "/sys/class/net/%s/bridge", name);
	return access(p, F_OK) == 0;
}

/* Whether a bridge has no port left. */
static bool no_ports(const char *name)
{
	char p[128];
	struct dirent *de;
	bool empty = true;
	DIR *dir;

	snprintf(p, sizeof p, "/sys/class/net/%s/brif", name);
	if (!(dir = opendir(p)))
		return false;
	while (empty && (de = readdir(dir)))
		empty = de->d_name[0] == '.';
	closedir(dir);
	return empty;
}

static int bridge_make(int sock, const struct xvm_hc_nic_config *n)
{
	int r;

	if (ioctl(sock, SIOCBRADDBR, n->bridge) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot make bridge %s: %s", n->bridge, strerror(-r));
		return r;
	}
	if (!mark_bridge(n->bridge)) {
		r = -errno;
		xvm_hv_set_error("cannot mark bridge %s as xvm's: %s", n->bridge, strerror(-r));
		ioctl(sock, SIOCBRDELBR, n->bridge);
		return r;
	}
	no_ipv6(n->bridge);
	if ((r = set_mtu(sock, n->bridge, n->mtu)) < 0 || (r = set_up(sock, n->bridge, true)) < 0)
		ioctl(sock, SIOCBRDELBR, n->bridge);
	return r;
}

/* 0 once it is gone (or was not there, or is not ours to remove), -EBUSY while it has ports. */
static int bridge_remove_if_empty(int sock, const char *name)
{
	int r;

	if (!is_bridge(name) || !marked_bridge(name))
		return 0;
	if (!no_ports(name)) {
		xvm_hv_set_error("bridge %s still has ports", name);
		return -EBUSY;
	}
	if ((r = set_up(sock, name, false)) < 0)
		return r;
	if (ioctl(sock, SIOCBRDELBR, name) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot remove bridge %s: %s", name, strerror(-r));
	}
	return r;
}

/* The same after a failure, or as housekeeping: what went wrong before stays the detail. */
static void bridge_drop_if_empty(int sock, const char *name)
{
	char saved[XVM_HC_ERROR_MAX];

	snprintf(saved, sizeof saved, "%s", xvm_hv_last_error(NULL));
	bridge_remove_if_empty(sock, name);
	xvm_hv_set_error("%s", saved);
}

/* The bridge the NIC goes on, made if it is managed; -ENODEV for a missing host bridge. */
static int bridge_ready(int sock, const struct xvm_hc_nic_config *n)
{
	if (is_bridge(n->bridge))
		return 0;
	if (exists(n->bridge)) {
		xvm_hv_set_error("nic %u: %s is a network interface, not a bridge", n->position, n->bridge);
		return -ENODEV;
	}
	if (!n->managed_bridge) {
		xvm_hv_set_error("nic %u: the host has no bridge %s", n->position, n->bridge);
		return -ENODEV;
	}
	return bridge_make(sock, n);
}

/* One TUNSETIFF: the tap's fd (3 or above: stdio is re-pointed in QEMU's child) and its name. */
static int tap_try(const char *name, int *ret, char actual[IFNAMSIZ])
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), high, r;

	if (fd >= 0 && fd < 3) {
		high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		fd = high;
	}
	if (fd < 0) {
		r = -errno;
		xvm_hv_set_error("cannot open /dev/net/tun for %s: %s", name, strerror(-r));
		return r;
	}
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot make tap %s: %s", name, strerror(-r));
		close(fd);
		return r;
	}
	snprintf(actual, IFNAMSIZ, "%s", ifr.ifr_name);
	*ret = fd;
	return 0;
}

/* vif<domid>.<position> as XenServer names them; domids are per state dir,
 * so another state dir's domain may hold that name (or it may not fit):
 * then a name the kernel picks. */
static int tap_create(const struct qdom *d, const struct xvm_hc_nic_config *n, int *ret, char name[IFNAMSIZ])
{
	char want[32];
	int r = -ENAMETOOLONG;

	if ((size_t)snprintf(want, sizeof want, "vif%u.%u", d->domid, n->position) < IFNAMSIZ &&
	    (r = tap_try(want, ret, name)) != -EBUSY)
		return r;
	return tap_try("xvmtap%d", ret, name);
}

static int tap_join(int sock, const char *tap, const struct xvm_hc_nic_config *n)
{
	struct ifreq ifr = { 0 };
	int r;

	no_ipv6(tap);
	if ((r = set_mtu(sock, tap, n->mtu)) < 0 || (r = ifreq_ioctl(sock, SIOCGIFINDEX, tap, &ifr, "no index for")) < 0)
		return r;
	if ((r = ifreq_ioctl(sock, SIOCBRADDIF, n->bridge, &ifr, "cannot add a port to bridge")) < 0)
		return r;
	return set_up(sock, tap, true);
}

int qemu_tap_open(const struct qemu *qm, const struct qdom *d, const struct xvm_hc_nic_config *n, int *ret)
{
	int lock = bridges_lock(qm), sock = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0), fd = -1, r;
	char tap[IFNAMSIZ];

	if (lock < 0 || sock < 0) {
		r = -errno;
		xvm_hv_set_error("cannot prepare the tap of nic %u: %s", n->position, strerror(-r));
	} else if ((r = bridge_ready(sock, n)) == 0 && (r = tap_create(d, n, &fd, tap)) == 0 &&
		   (r = tap_join(sock, tap, n)) < 0) {
		close(fd);
	}
	if (r < 0 && n->managed_bridge && sock >= 0)
		bridge_drop_if_empty(sock, n->bridge);
	if (sock >= 0)
		close(sock);
	bridges_unlock(lock);
	if (r == 0)
		*ret = fd;
	return r;
}

void qemu_bridges_release(const struct qemu *qm, const struct xvm_hc_nic_config *nics, uint32_t n)
{
	int lock = -1, sock = -1;

	for (uint32_t i = 0; i < n; i++) {
		if (!nics[i].managed_bridge)
			continue;
		if (sock < 0 && ((lock = bridges_lock(qm)) < 0 ||
				 (sock = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0))
			break;
		bridge_drop_if_empty(sock, nics[i].bridge);
	}
	if (sock >= 0)
		close(sock);
	bridges_unlock(lock);
}

int qemu_op_bridge_release(void *priv, void *arg)
{
	const struct xvm_hc_bridge *a = arg;
	int r = hv_bridge_check(a), lock, sock;

	if (r < 0)
		return r;
	lock = bridges_lock(priv);
	sock = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lock < 0 || sock < 0) {
		r = -errno;
		xvm_hv_set_error("cannot release bridge %s: %s", a->bridge, strerror(-r));
	} else {
		r = bridge_remove_if_empty(sock, a->bridge);
	}
	if (sock >= 0)
		close(sock);
	bridges_unlock(lock);
	return r;
}

int qemu_taps_open(const struct qemu *qm, struct qdom *d)
{
	int r = 0;

	for (uint32_t i = 0; r == 0 && i < d->cfg.nnics; i++)
		if (*d->cfg.nics[i].bridge)
			r = qemu_tap_open(qm, d, &d->cfg.nics[i], &d->tap_fds[i]);
	if (r < 0) {
		qemu_taps_close(d);
		qemu_bridges_release(qm, d->cfg.nics, d->cfg.nnics);
	}
	return r;
}

void qemu_taps_close(struct qdom *d)
{
	for (uint32_t i = 0; i < XVM_HC_MAX_NICS; i++)
		if (d->tap_fds[i] >= 0) {
			close(d->tap_fds[i]);
			d->tap_fds[i] = -1;
		}
}
