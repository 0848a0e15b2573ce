/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CONSOLE_OPEN: where a client connects. Serial: the unix socket QEMU
 * serves, plus the log of everything the guest wrote since this boot.
 * VNC: "127.0.0.1:PORT,ws=WSPORT" — the plain RFB port, and after ",ws="
 * the websocket port for browser clients (the ABI has one location field).
 */
#include <errno.h>
#include <stdio.h>

#include "qemu.h"

int qemu_op_console_open(void *priv, void *arg)
{
	struct xvm_hc_console *a = arg;
	struct xvm_hc_console o = *a;
	struct qdom *d = qemu_dom_new();
	int r;

	if (!d)
		return -ENOMEM;
	if ((r = qemu_dom_load(priv, a->domid, d)) < 0)
		goto out;
	if (!qemu_alive(d, NULL)) {
		xvm_hv_set_error("domain %u: its QEMU is gone, and its consoles with it", d->domid);
		r = -EINVAL;
		goto out;
	}
	switch (a->kind) {
	case XVM_HC_CONSOLE_SERIAL:
		qemu_path(o.location, d, "console.sock");
		qemu_path(o.log_path, d, "serial.log");
		break;
	case XVM_HC_CONSOLE_VNC:
		if (!d->vnc_port) {
			xvm_hv_set_error("domain %u has no VNC server", d->domid);
			r = -ENODEV;
			goto out;
		}
		snprintf(o.location, sizeof o.location, "127.0.0.1:%d,ws=%d", d->vnc_port, d->ws_port);
		o.log_path[0] = '\0';
		break;
	default:
		xvm_hv_set_error("unknown console kind %d", (int)a->kind);
		r = -EINVAL;
		goto out;
	}
	*a = o;
out:
	qemu_dom_free(d);
	return r;
}
