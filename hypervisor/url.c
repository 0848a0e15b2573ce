/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image URLs (url.h): what QEMU 7.2's nfs block driver can open, and nothing else. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "backend.h"
#include "url.h"

#define SCHEME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-"

bool hv_path_is_url(const char *path)
{
	return isalpha((unsigned char)path[0]) && !strncmp(path + strspn(path, SCHEME_CHARS), "://", 3);
}

static int bad(const char *what, const char *url, const char *why)
{
	xvm_hv_set_error("%s '%s' %s; an image on NFS is nfs://HOST/EXPORT/PATH/FILE", what, url, why);
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %XX escapes decoded into out (of size XVM_HC_PATH_MAX, which bounds the input too). */
static bool decode(const char *in, char *out)
{
	size_t k = 0;

	for (; *in; in++) {
		char c = *in;
		if (c == '%') {
			int hi = hexval(in[1]), lo = hi < 0 ? -1 : hexval(in[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi << 4 | lo);
			in += 2;
		}
		out[k++] = c;
	}
	out[k] = '\0';
	return true;
}

/* The host of the authority [auth, end): a name or IPv4 address, or [IPv6]. */
static int parse_host(const char *what, const char *url, const char *auth, const char *end,
		      struct hv_nfs_url *u)
{
	const char *h = auth, *rest;
	size_t n;

	if (memchr(auth, '@', end - auth))
		return bad(what, url, "names a user, which QEMU's nfs driver cannot use (it sends its own uid)");
	if (*auth == '[') {
		rest = memchr(auth, ']', end - auth);
		h = auth + 1;
		n = rest ? (size_t)(rest - h) : 0;
		if (!rest || strspn(h, "0123456789abcdefABCDEF:.") < n || !n)
			return bad(what, url, "has a malformed [IPv6] host");
		rest++;
	} else {
		n = strspn(auth, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_");
		rest = auth + n;
	}
	if (rest < end && *rest == ':')
		return bad(what, url, "names a port: QEMU's nfs driver has no port option, it finds the "
				      "server's NFS and mount services through its portmapper (rpcbind, port 111)");
	if (rest != end)
		return bad(what, url, "has a malformed host");
	if (!n || n >= sizeof u->host)
		return bad(what, url, n ? "has a host name that is too long" : "names no server");
	memcpy(u->host, h, n);
	u->host[n] = '\0';
	return 0;
}

int hv_nfs_url_parse(const char *what, const char *url, struct hv_nfs_url *ret)
{
	static struct hv_nfs_url zero;
	struct hv_nfs_url u = zero;
	size_t scheme = strspn(url, SCHEME_CHARS);
	const char *auth = url + scheme + 3, *end, *last;
	int r;

	if (!hv_path_is_url(url))
		return bad(what, url, "is not a URL");
	if (scheme != 3 || strncasecmp(url, "nfs", 3)) {
		xvm_hv_set_error("%s '%s': the URL scheme '%.*s' is not supported: an image is a local file "
				 "or on NFS, nfs://HOST/EXPORT/PATH/FILE", what, url, (int)scheme, url);
		return -EINVAL;
	}
	end = auth + strcspn(auth, "/?#");
	if ((r = parse_host(what, url, auth, end, &u)) < 0)
		return r;
	if (strpbrk(end, "?#"))
		return bad(what, url, "has a query or a fragment, which QEMU would not see");
	if (!decode(end, u.path))
		return bad(what, url, "has a malformed %-escape (or an escaped NUL)");
	/* QEMU mounts what lies before the last '/' and opens what follows it. */
	last = strrchr(u.path, '/');
	if (!last || last == u.path || !last[1])
		return bad(what, url, "names no export and file below it");
	*ret = u;
	return 0;
}

bool hv_same_image(const char *a, const char *b)
{
	struct hv_nfs_url ua, ub;
	struct stat sa, sb;

	if (hv_path_is_url(a) || hv_path_is_url(b))
		return hv_nfs_url_parse("image", a, &ua) == 0 && hv_nfs_url_parse("image", b, &ub) == 0 &&
		       !strcasecmp(ua.host, ub.host) && !strcmp(ua.path, ub.path);
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
