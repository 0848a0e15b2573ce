/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define VALIDITY_S (10ll * 365 * 86400)
#define MAX_PEM (1 << 20)

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = malloc(MAX_PEM + 1);
	size_t n = buf ? fread(buf, 1, MAX_PEM, f) : 0;
	bool ok = buf && !ferror(f) && n < MAX_PEM;
	fclose(f);
	if (!ok) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/* Writes data to path through a temporary file, so a crash leaves no half file. */
static int write_file(const char *path, const gnutls_datum_t *data, mode_t mode)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	bool ok = write(fd, data->data, data->size) == (ssize_t)data->size && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int check(int rc, const char *what)
{
	if (rc < 0)
		xlog_error("making the TLS certificate: %s: %s", what, gnutls_strerror(rc));
	return rc < 0 ? -1 : 0;
}

static int create(const char *cert_path, const char *key_path)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t key_pem = { 0 }, crt_pem = { 0 };
	char host[256] = "localhost";
	gethostname(host, sizeof(host) - 1);
	unsigned char serial[16];
	int r = getrandom(serial, sizeof(serial), 0) == (ssize_t)sizeof(serial) ? 0 : -1;
	serial[0] &= 0x7f; /* a positive serial */
	time_t now = time(NULL);
	static const unsigned char loopback4[4] = { 127, 0, 0, 1 }, loopback6[16] = { [15] = 1 };
	if (r < 0 || check(gnutls_x509_privkey_init(&key), "key") < 0 ||
	    check(gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
						NULL, 0), "generate the key") < 0 ||
	    check(gnutls_x509_crt_init(&crt), "certificate") < 0 ||
	    check(gnutls_x509_crt_set_version(crt, 3), "version") < 0 ||
	    check(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "serial") < 0 ||
	    check(gnutls_x509_crt_set_activation_time(crt, now - 3600), "activation") < 0 ||
	    check(gnutls_x509_crt_set_expiration_time(crt, (time_t)(now + VALIDITY_S)), "expiration") < 0 ||
	    check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host, (unsigned)strlen(host)), "name") < 0 ||
	    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host, (unsigned)strlen(host), GNUTLS_FSAN_SET), "SAN") < 0 ||
	    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_APPEND), "SAN") < 0 ||
	    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, loopback4, 4, GNUTLS_FSAN_APPEND), "SAN") < 0 ||
	    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, loopback6, 16, GNUTLS_FSAN_APPEND), "SAN") < 0 ||
	    check(gnutls_x509_crt_set_key(crt, key), "public key") < 0 ||
	    check(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "constraints") < 0 ||
	    check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "usage") < 0 ||
	    check(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "purpose") < 0 ||
	    check(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "sign") < 0 ||
	    check(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &key_pem), "export the key") < 0 ||
	    check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem), "export the certificate") < 0)
		r = -1;
	if (r == 0 && (write_file(key_path, &key_pem, 0600) < 0 || write_file(cert_path, &crt_pem, 0644) < 0)) {
		xlog_error("cannot write %s and %s: %s", cert_path, key_path, strerror(errno));
		r = -1;
	}
	if (r == 0)
		xlog_info("made a self-signed certificate for %s in %s", host, cert_path);
	gnutls_free(key_pem.data);
	gnutls_free(crt_pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return r;
}

int tls_load_or_create(const char *cert_path, const char *key_path, struct tls_pair *ret)
{
	bool have_cert = access(cert_path, F_OK) == 0, have_key = access(key_path, F_OK) == 0;
	if (have_cert != have_key) {
		xlog_error("%s exists but %s does not: give both or neither", have_cert ? cert_path : key_path,
			   have_cert ? key_path : cert_path);
		return -1;
	}
	if (!have_cert && create(cert_path, key_path) < 0)
		return -1;
	struct tls_pair p = { read_file(cert_path), read_file(key_path) };
	if (!p.cert || !p.key) {
		xlog_error("cannot read %s: %s", !p.cert ? cert_path : key_path, strerror(errno));
		tls_pair_clear(&p);
		return -1;
	}
	*ret = p;
	return 0;
}

void tls_pair_clear(struct tls_pair *p)
{
	free(p->cert);
	if (p->key)
		explicit_bzero(p->key, strlen(p->key));
	free(p->key);
	p->cert = p->key = NULL;
}
