/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NICs on the QEMU command line (a tap we opened, by fd; QEMU's user-mode
 * NAT; the model; the MTU the guest is told) and the checks a NIC config
 * gets on every backend. No QEMU runs and no host interface is touched:
 * the guests on real bridges are the e2e tests'.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "config_check.h"
#include "hvtest.h"
#include "qemu/qemu.h"

static struct qdom d;

static void setup(void)
{
	memset(&d, 0, sizeof d);
	hvt_config(&d.cfg, 1, 65536);
	d.cfg.nnics = 0; /* each test gives its own */
	d.lock_fd = -1;
	for (int i = 0; i < XVM_HC_MAX_NICS; i++)
		d.tap_fds[i] = -1;
	d.accel = XVM_HC_ACCEL_TCG;
	strcpy(d.dir, "/run/xvm-test/1");
	strcpy(d.cfg.machine, "q35");
}

TestSuite(nics, .init = setup);

static int build(char *text, size_t size)
{
	char **argv = NULL;
	int r = qemu_cmdline(&d, "/usr/bin/qemu-system-x86_64", NULL, &argv);
	if (r < 0)
		return r;
	text[0] = 0;
	for (int i = 0; argv[i]; i++) {
		strncat(text, argv[i], size - strlen(text) - 2);
		strcat(text, " ");
	}
	qemu_argv_free(argv);
	return 0;
}

static const char *cmdline(void)
{
	static char text[16384];
	int r = build(text, sizeof text);
	cr_assert_eq(r, 0, "%s", xvm_hv_last_error(NULL));
	return text;
}

static struct xvm_hc_nic_config *add_nic(const char *bridge, uint32_t position)
{
	struct xvm_hc_nic_config *n = &d.cfg.nics[d.cfg.nnics++];
	memset(n, 0, sizeof *n);
	snprintf(n->bridge, sizeof n->bridge, "%s", bridge);
	snprintf(n->mac, sizeof n->mac, "02:00:00:00:00:%02x", position);
	n->position = position;
	return n;
}

Test(nics, bridged_nic_is_the_tap_fd)
{
	add_nic("xvmbr0123456789", 0);
	d.tap_fds[0] = 17;
	const char *c = cmdline();
	cr_assert(strstr(c, "-netdev tap,id=net0,fd=17 "), "%s", c);
	cr_assert(strstr(c, "\"driver\":\"virtio-net-pci\",\"netdev\":\"net0\",\"id\":\"nic0\",\"mac\":\"02:00:00:00:00:00\""),
		  "%s", c);
	cr_assert_null(strstr(c, "bridge,"), "no qemu-bridge-helper: %s", c);
	cr_assert_null(strstr(c, "host_mtu"), "no MTU given, none told: %s", c);
}

Test(nics, a_bridged_nic_without_its_tap_is_refused)
{
	char text[16384];
	add_nic("br0", 0);
	cr_assert_eq(build(text, sizeof text), -EBADF);
	cr_assert(strstr(xvm_hv_last_error(NULL), "no tap"), "%s", xvm_hv_last_error(NULL));
}

Test(nics, user_mode_nat_needs_no_tap)
{
	add_nic("", 0);
	add_nic("br0", 1);
	d.tap_fds[1] = 9;
	const char *c = cmdline();
	cr_assert(strstr(c, "-netdev user,id=net0 "), "%s", c);
	cr_assert(strstr(c, "-netdev tap,id=net1,fd=9 "), "%s", c);
	cr_assert(strstr(c, "\"netdev\":\"net1\",\"id\":\"nic1\""), "%s", c);
}

Test(nics, mtu_and_model)
{
	add_nic("", 0)->mtu = 9000;
	struct xvm_hc_nic_config *e = add_nic("", 1);
	e->model = XVM_HC_NIC_E1000;
	e->mtu = 9000;
	const char *c = cmdline();
	cr_assert(strstr(c, "\"driver\":\"virtio-net-pci\",\"netdev\":\"net0\",\"id\":\"nic0\",\"mac\":\"02:00:00:00:00:00\","
			    "\"host_mtu\":9000"), "%s", c);
	cr_assert(strstr(c, "\"driver\":\"e1000\",\"netdev\":\"net1\",\"id\":\"nic1\",\"mac\":\"02:00:00:00:00:01\"}"),
		  "e1000 has no host_mtu: %s", c);
}

static int check(void (*edit)(struct xvm_hc_nic_config *n))
{
	struct xvm_hc_nic_config n = { .mac = "02:00:00:00:00:01", .bridge = "br0", .mtu = 1500 };
	edit(&n);
	return hv_nic_check(&n);
}

static void nothing(struct xvm_hc_nic_config *n) { (void)n; }
static void bad_mac(struct xvm_hc_nic_config *n) { strcpy(n->mac, "02:00:00:00:00:0g"); }
static void comma(struct xvm_hc_nic_config *n) { strcpy(n->bridge, "br0,x=1"); }
static void slash(struct xvm_hc_nic_config *n) { strcpy(n->bridge, "../x"); }
static void unterminated(struct xvm_hc_nic_config *n) { memset(n->bridge, 'b', sizeof n->bridge); }
static void small_mtu(struct xvm_hc_nic_config *n) { n->mtu = 67; }
static void big_mtu(struct xvm_hc_nic_config *n) { n->mtu = 65536; }
static void model(struct xvm_hc_nic_config *n) { n->model = 7; }
static void managed_nameless(struct xvm_hc_nic_config *n) { n->bridge[0] = 0; n->managed_bridge = true; }
static void far_position(struct xvm_hc_nic_config *n) { n->position = 100; }
static void user_mode(struct xvm_hc_nic_config *n) { n->bridge[0] = 0; n->mtu = 0; }

Test(nics, config_checks)
{
	cr_assert_eq(check(nothing), 0, "%s", xvm_hv_last_error(NULL));
	cr_assert_eq(check(user_mode), 0, "%s", xvm_hv_last_error(NULL));
	void (*bad[])(struct xvm_hc_nic_config *) = { bad_mac, comma, slash, unterminated, small_mtu, big_mtu, model,
						      managed_nameless, far_position };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(check(bad[i]), -EINVAL, "case %zu", i);
}

/* What the rundir keeps of a NIC comes back as it was. */
Test(nics, config_json_round_trip)
{
	struct xvm_hc_nic_config *n = add_nic("xvmbrabc", 3);
	n->mtu = 1400;
	n->model = XVM_HC_NIC_E1000;
	n->managed_bridge = true;
	struct json_object *o = qemu_config_to_json(&d.cfg);
	struct xvm_hc_domain_config back;
	cr_assert_eq(qemu_config_from_json(o, &back), 0, "%s", xvm_hv_last_error(NULL));
	json_object_put(o);
	cr_assert_eq(back.nnics, 1);
	cr_assert_str_eq(back.nics[0].bridge, "xvmbrabc");
	cr_assert_str_eq(back.nics[0].mac, "02:00:00:00:00:03");
	cr_assert_eq(back.nics[0].position, 3);
	cr_assert_eq(back.nics[0].mtu, 1400);
	cr_assert_eq(back.nics[0].model, XVM_HC_NIC_E1000);
	cr_assert(back.nics[0].managed_bridge);
}
