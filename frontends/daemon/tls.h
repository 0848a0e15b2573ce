/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's certificate and key (PEM). When neither file exists a
 * self-signed pair is made (GnuTLS: ECDSA P-256, ten years, the host's
 * name, localhost and the loopback addresses as subject alternative
 * names), as xapi makes its own on first boot; clients then trust that
 * certificate (xvm --ca FILE, xvm://HOST?ca=FILE) or skip the check.
 */
#pragma once

struct tls_pair {
	char *cert;
	char *key;
};

/* 0, or -1 after logging why. */
int tls_load_or_create(const char *cert_path, const char *key_path, struct tls_pair *ret);
void tls_pair_clear(struct tls_pair *p);
