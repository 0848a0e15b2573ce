# SPDX-License-Identifier: LGPL-2.1-or-later
"""Networking with real guests: two Linux guests on a private xvm network
ping each other (static addresses from the kernel command line), each sees
its VIF's MAC, a VIF hot-plugged into a running guest shows up in it, and a
guest on the Host NAT network gets its DHCP lease from QEMU.

Each test runs the CLI in a network namespace of its own (`ip netns exec`):
the bridges and taps xvm makes are there, with no uplink and no address, so
no frame can leave; the namespace goes with the test, after it has checked
that no tap and no xvm bridge is left."""
import os
import re
import subprocess
import uuid as uuidlib

import pytest

from conftest import LINUX_CMDLINE, LINUX_POWEROFF, LINUX_READY

NET_KERNEL = os.environ.get("XVM_TEST_NET_KERNEL")
NET_INITRD = os.environ.get("XVM_TEST_NET_INITRD")
BOOT_TIMEOUT = 150

NICS = re.compile(r"XVM-LINUX NICS((?: \S+=\S+)*)$")
PING = re.compile(r"XVM-LINUX PING (?P<peer>\S+) (?P<result>ok|failed)$")
DHCP = re.compile(r"XVM-LINUX DHCP (?P<nic>\S+)=(?P<addr>\S+)$")


def ns_run(ns, *argv):
    return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=30,
                          check=True).stdout


def links(ns):
    """The names of the namespace's interfaces."""
    return [line.split(":")[1].strip().split("@")[0] for line in ns_run(ns, "ip", "-o", "link", "show").splitlines()]


@pytest.fixture
def netns(xvm):
    """A network namespace that every CLI command of xvm runs in."""
    name = "xvm-e2e-" + uuidlib.uuid4().hex[:8]
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot make a network namespace: {e}")
    ns_run(name, "ip", "link", "set", "lo", "up")
    xvm.prefix = ["ip", "netns", "exec", name]
    yield name
    xvm.stop_everything()
    left = [i for i in links(name) if i.startswith(("vif", "xvmtap", "xvmbr"))]
    xvm.prefix = []
    subprocess.run(["ip", "netns", "del", name], check=True)
    assert not left, f"taps or bridges left behind: {left}"


def state(m):
    return dict(item.split("=", 1) for item in m[1].split())


def wait_nics(console, wanted, timeout=60.0):
    """Reads NICS lines until one is `wanted` ({name: mac})."""
    while state(console.wait(NICS, timeout=timeout)) != wanted:
        pass


def net_linux(xvm, name, *args):
    for f in (NET_KERNEL, NET_INITRD):
        assert f and os.path.exists(f), f"missing network Linux fixture {f!r} (meson test sets the paths)"
    uuid = xvm.guest(name, f"PV-ramdisk={NET_INITRD}",
                     f"PV-args={LINUX_CMDLINE} xvm.watch=net {' '.join(args)}", kernel=NET_KERNEL)
    xvm.set_memory(uuid, "256MiB")
    return uuid


def new_vif(xvm, vm, network, device, *extra):
    vif = xvm.ok("vif-create", f"vm-uuid={vm}", f"network-uuid={network}", f"device={device}", *extra)
    return vif, xvm.ok("vif-param-get", f"uuid={vif}", "param-name=MAC")


def domid(xvm, vm):
    return xvm.params(vm)["domid"]


def test_two_guests_on_a_private_network_and_a_hot_plugged_vif(xvm, netns):
    lab = xvm.ok("network-create", "name-label=lab", "MTU=1400")
    bridge = xvm.ok("network-param-get", f"uuid={lab}", "param-name=bridge")
    a = net_linux(xvm, "a", "xvm.ip=10.199.0.1/24", "xvm.ping=10.199.0.2")
    b = net_linux(xvm, "b", "xvm.ip=10.199.0.2/24", "xvm.ping=10.199.0.1")
    _, mac_a = new_vif(xvm, a, lab, 0)
    _, mac_b = new_vif(xvm, b, lab, 0, "mac=02:00:0a:c7:00:02")
    assert bridge not in links(netns), "the bridge is made when a VIF first needs it"
    consoles = {}
    for name in ("a", "b"):
        xvm.ok("vm-start", f"vm={name}")
        consoles[name] = xvm.console(name)
    wait_nics(consoles["a"], {"eth0": mac_a}, BOOT_TIMEOUT)
    wait_nics(consoles["b"], {"eth0": "02:00:0a:c7:00:02"}, BOOT_TIMEOUT)
    for name, peer in (("a", "10.199.0.2"), ("b", "10.199.0.1")):
        m = consoles[name].wait(PING, timeout=BOOT_TIMEOUT)
        assert (m["peer"], m["result"]) == (peer, "ok"), consoles[name].transcript()
    # Both taps on the bridge, with the network's MTU; the bridge has no address of the host's.
    taps = {f"vif{domid(xvm, vm)}.0" for vm in (a, b)}
    ports = set(ns_run(netns, "ls", f"/sys/class/net/{bridge}/brif").split())
    assert ports == taps
    for tap in taps:
        assert ns_run(netns, "cat", f"/sys/class/net/{tap}/mtu").strip() == "1400"
    assert "inet" not in ns_run(netns, "ip", "-o", "addr", "show", "dev", bridge)

    # A VIF plugged into the running guest shows up there; unplugged, it goes.
    hot, mac_hot = new_vif(xvm, a, lab, 1)
    xvm.ok("vif-plug", f"uuid={hot}")
    wait_nics(consoles["a"], {"eth0": mac_a, "eth1": mac_hot})
    assert f"vif{domid(xvm, a)}.1" in ns_run(netns, "ls", f"/sys/class/net/{bridge}/brif").split()
    xvm.ok("vif-unplug", f"uuid={hot}")
    wait_nics(consoles["a"], {"eth0": mac_a})
    assert f"vif{domid(xvm, a)}.1" not in links(netns)

    # Suspended, the guest leaves the bridge (b keeps it up); resumed, it is back on a new tap.
    xvm.ok("vm-suspend", "vm=a")
    assert set(ns_run(netns, "ls", f"/sys/class/net/{bridge}/brif").split()) == {f"vif{domid(xvm, b)}.0"}
    xvm.ok("vm-resume", "vm=a")
    ports = set(ns_run(netns, "ls", f"/sys/class/net/{bridge}/brif").split())
    assert ports == {f"vif{domid(xvm, vm)}.0" for vm in (a, b)}

    for name, vm in (("a", a), ("b", b)):
        xvm.ok("vm-shutdown", f"vm={name}", "--force")
        assert xvm.power(vm) == "halted"
    assert [i for i in links(netns) if i.startswith(("vif", "xvmtap", "xvmbr"))] == []

    # A bridge of the network that an interrupted start left behind goes with the network.
    ns_run(netns, "ip", "link", "add", bridge, "type", "bridge")
    ns_run(netns, "ip", "link", "set", bridge, "alias", "xvm managed bridge")  # as xvm marks its own
    for vif in xvm.ok("vif-list", f"network-uuid={lab}", "--minimal").split(","):
        xvm.ok("vif-destroy", f"uuid={vif}")
    xvm.ok("network-destroy", f"uuid={lab}")
    assert bridge not in links(netns)


def test_nat_network_lease_from_qemu(xvm, netns):
    nat = xvm.ok("network-list", "name-label=Host NAT network", "--minimal")
    vm = net_linux(xvm, "n", "xvm.dhcp")
    _, mac = new_vif(xvm, vm, nat, 0)
    xvm.ok("vm-start", "vm=n")
    c = xvm.console("n")
    wait_nics(c, {"eth0": mac}, BOOT_TIMEOUT)
    c.wait(LINUX_READY, timeout=BOOT_TIMEOUT)
    m = c.wait(DHCP, timeout=BOOT_TIMEOUT)
    assert (m["nic"], m["addr"]) == ("eth0", "10.0.2.15"), c.transcript()
    # User-mode networking needs no interface on the host.
    assert [i for i in links(netns) if i.startswith(("vif", "xvmtap", "xvmbr"))] == []
    xvm.ok("vm-shutdown", "vm=n")
    c.wait(LINUX_POWEROFF, timeout=10)


def test_a_missing_host_bridge_is_a_clear_error(xvm, netns):
    net = xvm.ok("network-create", "name-label=uplink", "bridge=xvmtestbr9")
    vm = xvm.guest("g")
    new_vif(xvm, vm, net, 0)
    err = xvm.fails("vm-start", "vm=g")
    assert "BRIDGE_NOT_AVAILABLE" in err and "no bridge xvmtestbr9" in err, err
    assert xvm.power(vm) == "halted"
    assert "xvmtestbr9" not in links(netns), "a host bridge is never made"
    # Once the host has it, the VM starts on it; it stays when the VM goes.
    ns_run(netns, "ip", "link", "add", "xvmtestbr9", "type", "bridge")
    xvm.ok("vm-start", "vm=g")
    assert f"vif{domid(xvm, vm)}.0" in ns_run(netns, "ls", "/sys/class/net/xvmtestbr9/brif").split()
    xvm.ok("vm-shutdown", "vm=g", "--force")
    assert "xvmtestbr9" in links(netns)
