/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "xmlrpc.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xvm/xvm.h>

#define MAX_DEPTH 64
#define MAX_NAME 128

/* --- parsing -------------------------------------------------------------- */

struct parser {
	const char *start, *p, *end;
	char err[160];
};

static int fail(struct parser *ps, const char *what)
{
	if (!ps->err[0])
		snprintf(ps->err, sizeof(ps->err), "%s at byte %td", what, ps->p - ps->start);
	return -1;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && strchr(" \t\r\n", *ps->p))
		ps->p++;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

/* After optional blanks: "<NAME>" (0) or "<NAME/>" (1), the name copied out.
 * Leaves p untouched when the next thing is not an opening tag. */
static int open_tag(struct parser *ps, char name[MAX_NAME])
{
	skip_ws(ps);
	const char *p = ps->p;
	if (p >= ps->end || *p != '<' || p + 1 >= ps->end || !name_char(p[1]))
		return fail(ps, "expected an element");
	p++;
	size_t n = 0;
	while (p < ps->end && name_char(*p) && n < MAX_NAME - 1)
		name[n++] = *p++;
	name[n] = 0;
	while (p < ps->end && strchr(" \t\r\n", *p))
		p++;
	if (p < ps->end && *p == '>') {
		ps->p = p + 1;
		return 0;
	}
	if (p + 1 < ps->end && p[0] == '/' && p[1] == '>') {
		ps->p = p + 2;
		return 1;
	}
	return fail(ps, "attributes or a malformed tag");
}

static int expect_open(struct parser *ps, const char *want)
{
	char name[MAX_NAME];
	const char *at = ps->p;
	int r = open_tag(ps, name);
	if (r >= 0 && strcmp(name, want) != 0) {
		ps->p = at;
		snprintf(ps->err, sizeof(ps->err), "expected <%s>, found <%s>", want, name);
		return -1;
	}
	return r;
}

static int expect_close(struct parser *ps, const char *want)
{
	skip_ws(ps);
	size_t n = strlen(want);
	const char *p = ps->p;
	if (ps->end - p < (ptrdiff_t)n + 3 || p[0] != '<' || p[1] != '/' || memcmp(p + 2, want, n) != 0) {
		snprintf(ps->err, sizeof(ps->err), "expected </%s>", want);
		return -1;
	}
	p += 2 + n;
	while (p < ps->end && strchr(" \t\r\n", *p))
		p++;
	if (p >= ps->end || *p != '>') {
		snprintf(ps->err, sizeof(ps->err), "expected </%s>", want);
		return -1;
	}
	ps->p = p + 1;
	return 0;
}

/* Whether a closing tag comes next (after blanks). */
static bool at_close(struct parser *ps)
{
	skip_ws(ps);
	return ps->end - ps->p >= 2 && ps->p[0] == '<' && ps->p[1] == '/';
}

static void put_utf8(char **o, unsigned long c)
{
	unsigned char *u = (unsigned char *)*o;
	if (c < 0x80) {
		*u++ = (unsigned char)c;
	} else if (c < 0x800) {
		*u++ = (unsigned char)(0xc0 | (c >> 6));
		*u++ = (unsigned char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*u++ = (unsigned char)(0xe0 | (c >> 12));
		*u++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		*u++ = (unsigned char)(0x80 | (c & 0x3f));
	} else {
		*u++ = (unsigned char)(0xf0 | (c >> 18));
		*u++ = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		*u++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		*u++ = (unsigned char)(0x80 | (c & 0x3f));
	}
	*o = (char *)u;
}

/* Whether s[0..n) is UTF-8 without the control characters XML 1.0 forbids. */
static bool xml_text_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || i + len > n || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (len == 2 && c < 0xc2))
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* Character data up to the next '<', entities decoded. *ret: malloc()ed. */
static int text(struct parser *ps, char **ret, size_t *len)
{
	const char *start = ps->p;
	while (ps->p < ps->end && *ps->p != '<')
		ps->p++;
	size_t n = (size_t)(ps->p - start);
	if (!xml_text_valid((const unsigned char *)start, n))
		return fail(ps, "text that is not UTF-8, or a control character");
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return fail(ps, "out of memory");
	for (const char *s = start; s < ps->p;) {
		if (*s != '&') {
			*o++ = *s++;
			continue;
		}
		const char *semi = memchr(s, ';', (size_t)(ps->p - s));
		if (!semi || semi - s > 10)
			goto bad;
		size_t el = (size_t)(semi - s + 1);
		static const struct { const char *name; char c; } named[] = {
			{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' },
		};
		bool done = false;
		for (size_t i = 0; i < 5 && !done; i++)
			if (strlen(named[i].name) == el && memcmp(s, named[i].name, el) == 0) {
				*o++ = named[i].c;
				done = true;
			}
		if (!done) {
			if (s[1] != '#')
				goto bad;
			bool hexa = s[2] == 'x';
			char digits[12] = { 0 };
			size_t dn = (size_t)(semi - s) - (hexa ? 3 : 2);
			if (dn == 0 || dn >= sizeof(digits))
				goto bad;
			memcpy(digits, s + (hexa ? 3 : 2), dn);
			char *e;
			unsigned long c = strtoul(digits, &e, hexa ? 16 : 10);
			if (*e || c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
				goto bad;
			put_utf8(&o, c); /* never longer than the reference itself */
		}
		s = semi + 1;
	}
	*o = 0;
	*ret = out;
	*len = (size_t)(o - out);
	return 0;
bad:
	free(out);
	return fail(ps, "a malformed entity or character reference");
}

static int value(struct parser *ps, int depth, struct json_object **ret);

/* <TYPE>text</TYPE>, or <TYPE/> for an empty one. */
static int scalar_text(struct parser *ps, const char *type, int selfclosing, char **s, size_t *len)
{
	if (selfclosing) {
		*s = strdup("");
		*len = 0;
		return *s ? 0 : fail(ps, "out of memory");
	}
	if (text(ps, s, len) < 0)
		return -1;
	if (expect_close(ps, type) < 0) {
		free(*s);
		return -1;
	}
	return 0;
}

static int typed(struct parser *ps, const char *type, int selfclosing, int depth, struct json_object **ret)
{
	char *s = NULL;
	size_t len;
	if (strcmp(type, "struct") == 0 || strcmp(type, "array") == 0) {
		bool is_struct = type[0] == 's';
		struct json_object *out = is_struct ? json_object_new_object() : json_object_new_array();
		if (!selfclosing && !is_struct) {
			int r = expect_open(ps, "data");
			if (r < 0)
				goto fail_agg;
			if (r == 0) {
				while (!at_close(ps)) {
					struct json_object *v;
					if (value(ps, depth + 1, &v) < 0)
						goto fail_agg;
					json_object_array_add(out, v);
				}
				if (expect_close(ps, "data") < 0)
					goto fail_agg;
			}
		}
		while (!selfclosing && is_struct && !at_close(ps)) {
			char *key;
			struct json_object *v;
			if (expect_open(ps, "member") != 0 || expect_open(ps, "name") != 0)
				goto fail_agg;
			if (text(ps, &key, &len) < 0)
				goto fail_agg;
			if (expect_close(ps, "name") < 0 || value(ps, depth + 1, &v) < 0) {
				free(key);
				goto fail_agg;
			}
			json_object_object_add(out, key, v);
			free(key);
			if (expect_close(ps, "member") < 0)
				goto fail_agg;
		}
		if (!selfclosing && expect_close(ps, type) < 0)
			goto fail_agg;
		*ret = out;
		return 0;
	fail_agg:
		json_object_put(out);
		return -1;
	}
	if (strcmp(type, "nil") == 0) {
		if (!selfclosing && expect_close(ps, "nil") < 0)
			return -1;
		*ret = NULL;
		return 0;
	}
	if (scalar_text(ps, type, selfclosing, &s, &len) < 0)
		return -1;
	int r = 0;
	char *e;
	if (strcmp(type, "string") == 0 || strcmp(type, "dateTime.iso8601") == 0 || strcmp(type, "base64") == 0) {
		*ret = json_object_new_string_len(s, (int)len);
	} else if (strcmp(type, "int") == 0 || strcmp(type, "i4") == 0 || strcmp(type, "i8") == 0) {
		errno = 0;
		long long v = strtoll(s, &e, 10);
		if (!*s || *e || errno)
			r = fail(ps, "a malformed integer");
		else
			*ret = json_object_new_int64(v);
	} else if (strcmp(type, "boolean") == 0) {
		if (strcmp(s, "0") && strcmp(s, "1"))
			r = fail(ps, "a boolean must be 0 or 1");
		else
			*ret = json_object_new_boolean(s[0] == '1');
	} else if (strcmp(type, "double") == 0) {
		double d = strtod(s, &e);
		if (!*s || *e || !isfinite(d))
			r = fail(ps, "a malformed double");
		else
			*ret = json_object_new_double(d);
	} else {
		r = fail(ps, "an unknown value type");
	}
	free(s);
	return r;
}

/* <value>...</value> */
static int value(struct parser *ps, int depth, struct json_object **ret)
{
	if (depth > MAX_DEPTH)
		return fail(ps, "values nested too deep");
	int r = expect_open(ps, "value");
	if (r < 0)
		return -1;
	if (r == 1) {
		*ret = json_object_new_string("");
		return 0;
	}
	/* A bare text value is a string. */
	const char *at = ps->p;
	skip_ws(ps);
	if (ps->p >= ps->end || ps->p[0] != '<' || (ps->p + 1 < ps->end && ps->p[1] == '/')) {
		ps->p = at;
		char *s;
		size_t len;
		if (text(ps, &s, &len) < 0)
			return -1;
		*ret = json_object_new_string_len(s, (int)len);
		free(s);
		return expect_close(ps, "value") < 0 ? (json_object_put(*ret), -1) : 0;
	}
	char type[MAX_NAME];
	int sc = open_tag(ps, type);
	if (sc < 0 || typed(ps, type, sc, depth, ret) < 0)
		return -1;
	if (expect_close(ps, "value") < 0) {
		json_object_put(*ret);
		return -1;
	}
	return 0;
}

/* <?xml ...?> may come first; nothing else that is not an element may. */
static int prolog(struct parser *ps)
{
	if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xef\xbb\xbf", 3) == 0)
		ps->p += 3;
	skip_ws(ps);
	if (ps->end - ps->p >= 5 && memcmp(ps->p, "<?xml", 5) == 0) {
		const char *close = ps->p;
		while (close + 1 < ps->end && !(close[0] == '?' && close[1] == '>'))
			close++;
		if (close + 1 >= ps->end)
			return fail(ps, "an unterminated XML declaration");
		ps->p = close + 2;
	}
	skip_ws(ps);
	if (ps->p < ps->end && ps->p[0] == '<' && ps->p + 1 < ps->end && (ps->p[1] == '!' || ps->p[1] == '?'))
		return fail(ps, "DTDs, comments and processing instructions are not accepted");
	return 0;
}

static int parse_call(struct parser *ps, char **method, struct json_object **params)
{
	char *name = NULL;
	size_t len;
	struct json_object *out = json_object_new_array();
	if (prolog(ps) < 0 || expect_open(ps, "methodCall") != 0 || expect_open(ps, "methodName") != 0 ||
	    text(ps, &name, &len) < 0)
		goto fail;
	if (expect_close(ps, "methodName") < 0 || !len || strlen(name) != len)
		goto fail;
	if (!at_close(ps)) {
		int r = expect_open(ps, "params");
		if (r < 0)
			goto fail;
		while (r == 0 && !at_close(ps)) {
			struct json_object *v;
			if (expect_open(ps, "param") != 0 || value(ps, 1, &v) < 0)
				goto fail;
			json_object_array_add(out, v);
			if (expect_close(ps, "param") < 0)
				goto fail;
		}
		if (r == 0 && expect_close(ps, "params") < 0)
			goto fail;
	}
	if (expect_close(ps, "methodCall") < 0)
		goto fail;
	skip_ws(ps);
	if (ps->p != ps->end) {
		fail(ps, "bytes after </methodCall>");
		goto fail;
	}
	*method = name;
	*params = out;
	return 0;
fail:
	if (!ps->err[0])
		fail(ps, "not an XML-RPC method call");
	free(name);
	json_object_put(out);
	return -1;
}

/* --- serializing ---------------------------------------------------------- */

struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *grown = realloc(b->data, cap);
		if (!grown) {
			b->oom = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void put_escaped(struct buf *b, const char *s, size_t n)
{
	const char *run = s;
	for (const char *p = s; p < s + n; p++) {
		const char *rep = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;" : NULL;
		if (!rep)
			continue;
		put(b, run, (size_t)(p - run));
		put(b, rep, strlen(rep));
		run = p + 1;
	}
	put(b, run, (size_t)(s + n - run));
}

static void put_value(struct buf *b, struct json_object *v)
{
	char num[40];
	PUTS(b, "<value>");
	switch (json_object_get_type(v)) {
	case json_type_null:
		break; /* XenAPI's void: the empty string */
	case json_type_boolean:
		put(b, json_object_get_boolean(v) ? "<boolean>1</boolean>" : "<boolean>0</boolean>", 20);
		break;
	case json_type_int:
		/* XenAPI: 64-bit ints travel as strings of digits */
		put(b, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v)));
		break;
	case json_type_double:
		PUTS(b, "<double>");
		put(b, num, (size_t)snprintf(num, sizeof(num), "%.17g", json_object_get_double(v)));
		PUTS(b, "</double>");
		break;
	case json_type_string:
		put_escaped(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		break;
	case json_type_array:
		PUTS(b, "<array><data>");
		for (size_t i = 0; i < json_object_array_length(v); i++)
			put_value(b, json_object_array_get_idx(v, i));
		PUTS(b, "</data></array>");
		break;
	case json_type_object:
		PUTS(b, "<struct>");
		json_object_object_foreach(v, key, member) {
			PUTS(b, "<member><name>");
			put_escaped(b, key, strlen(key));
			PUTS(b, "</name>");
			put_value(b, member);
			PUTS(b, "</member>");
		}
		PUTS(b, "</struct>");
		break;
	}
	PUTS(b, "</value>");
}

/* XenAPI sends datetime fields as <dateTime.iso8601>: where the method
 * says which class its records are of, their datetime fields go so. */
static bool is_datetime(const struct xvm_class_info *cls, const char *field)
{
	const struct xvm_field_info *f = cls ? xvm_class_field(cls, field) : NULL;
	return f && f->type == XVM_TYPE_DATETIME;
}

static void put_datetime(struct buf *b, struct json_object *v)
{
	PUTS(b, "<value><dateTime.iso8601>");
	put_escaped(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	PUTS(b, "</dateTime.iso8601></value>");
}

static void put_record(struct buf *b, struct json_object *rec, const struct xvm_class_info *cls)
{
	if (!json_object_is_type(rec, json_type_object)) {
		put_value(b, rec);
		return;
	}
	PUTS(b, "<value><struct>");
	json_object_object_foreach(rec, key, member) {
		PUTS(b, "<member><name>");
		put_escaped(b, key, strlen(key));
		PUTS(b, "</name>");
		if (json_object_is_type(member, json_type_string) && is_datetime(cls, key))
			put_datetime(b, member);
		else
			put_value(b, member);
		PUTS(b, "</member>");
	}
	PUTS(b, "</struct></value>");
}

/* A class by XenAPI's name in any case, as events name them ("vm"). */
static const struct xvm_class_info *class_named(const char *name, size_t len)
{
	for (size_t i = 0; i < xvm_class_count(); i++) {
		const struct xvm_class_info *c = xvm_class_at(i);
		if (strlen(c->name) == len && strncasecmp(c->name, name, len) == 0)
			return c;
	}
	return NULL;
}

/* event.from's answer: each event's snapshot is a record of its class. */
static void put_events(struct buf *b, struct json_object *result)
{
	PUTS(b, "<value><struct>");
	json_object_object_foreach(result, key, member) {
		PUTS(b, "<member><name>");
		put_escaped(b, key, strlen(key));
		PUTS(b, "</name>");
		if (strcmp(key, "events") == 0 && json_object_is_type(member, json_type_array)) {
			PUTS(b, "<value><array><data>");
			for (size_t i = 0; i < json_object_array_length(member); i++) {
				struct json_object *ev = json_object_array_get_idx(member, i), *cls;
				const char *name = json_object_object_get_ex(ev, "class", &cls) ? json_object_get_string(cls) : "";
				PUTS(b, "<value><struct>");
				json_object_object_foreach(ev, k, v) {
					PUTS(b, "<member><name>");
					put_escaped(b, k, strlen(k));
					PUTS(b, "</name>");
					if (strcmp(k, "snapshot") == 0)
						put_record(b, v, class_named(name, strlen(name)));
					else if (strcmp(k, "timestamp") == 0 && json_object_is_type(v, json_type_string))
						put_datetime(b, v);
					else
						put_value(b, v);
					PUTS(b, "</member>");
				}
				PUTS(b, "</struct></value>");
			}
			PUTS(b, "</data></array></value>");
		} else {
			put_value(b, member);
		}
		PUTS(b, "</member>");
	}
	PUTS(b, "</struct></value>");
}

/* The result of `method`, typed as XenAPI types it where that matters. */
static void put_result(struct buf *b, const char *method, struct json_object *result)
{
	const char *dot = strchr(method, '.');
	const struct xvm_class_info *cls = dot ? class_named(method, (size_t)(dot - method)) : NULL;
	const char *op = dot ? dot + 1 : "";
	if (strcmp(method, "event.from") == 0 && json_object_is_type(result, json_type_object)) {
		put_events(b, result);
	} else if (cls && strcmp(op, "get_record") == 0) {
		put_record(b, result, cls);
	} else if (cls && (strcmp(op, "get_all_records") == 0 || strcmp(op, "get_all_records_fields") == 0) &&
		   json_object_is_type(result, json_type_object)) {
		PUTS(b, "<value><struct>");
		json_object_object_foreach(result, ref, rec) {
			PUTS(b, "<member><name>");
			put_escaped(b, ref, strlen(ref));
			PUTS(b, "</name>");
			put_record(b, rec, cls);
			PUTS(b, "</member>");
		}
		PUTS(b, "</struct></value>");
	} else if (cls && strncmp(op, "get_", 4) == 0 && is_datetime(cls, op + 4) &&
		   json_object_is_type(result, json_type_string)) {
		put_datetime(b, result);
	} else {
		put_value(b, result);
	}
}

static char *finish(struct buf *b)
{
	PUTS(b, "</param></params></methodResponse>\n");
	if (b->oom) {
		free(b->data);
		return NULL;
	}
	return b->data;
}

static char *response(const char *method, int r, struct json_object *result, struct rpc_error *err)
{
	struct buf b = { 0 };
	PUTS(&b, "<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><struct>");
	if (r == 0) {
		PUTS(&b, "<member><name>Status</name><value>Success</value></member><member><name>Value</name>");
		put_result(&b, method, result);
	} else {
		PUTS(&b, "<member><name>Status</name><value>Failure</value></member>"
			 "<member><name>ErrorDescription</name><value><array><data><value>");
		put_escaped(&b, err->code, strlen(err->code));
		PUTS(&b, "</value>");
		for (size_t i = 0; i < json_object_array_length(err->params); i++)
			put_value(&b, json_object_array_get_idx(err->params, i));
		PUTS(&b, "</data></array></value>");
	}
	PUTS(&b, "</member></struct></value>");
	return finish(&b);
}

static char *fault(const char *why)
{
	struct buf b = { 0 };
	PUTS(&b, "<?xml version=\"1.0\"?>\n<methodResponse><fault><value><struct>"
		 "<member><name>faultCode</name><value><int>-32700</int></value></member>"
		 "<member><name>faultString</name><value>");
	put_escaped(&b, why, strlen(why));
	PUTS(&b, "</value></member></struct></value></fault></methodResponse>\n");
	if (b.oom) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

char *xmlrpc_handle(struct rpc *rpc, const struct rpc_peer *peer, const char *body, size_t len)
{
	const char *text_in = body ? body : "";
	struct parser ps = { .start = text_in, .p = text_in, .end = text_in + len };
	char *method;
	struct json_object *params;
	if (parse_call(&ps, &method, &params) < 0) {
		char why[200];
		snprintf(why, sizeof(why), "parse error: %s", ps.err);
		return fault(why);
	}
	struct json_object *result = NULL;
	struct rpc_error err = { 0 };
	int r = rpc_call(rpc, peer, method, params, &result, &err);
	char *out = response(method, r, result, &err);
	json_object_put(result);
	rpc_error_clear(&err);
	json_object_put(params);
	free(method);
	return out;
}
