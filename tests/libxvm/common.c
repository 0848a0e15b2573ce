/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hypercall.h"

char *t_tmpdir(void)
{
	char *d = strdup("/tmp/xvm-libtest-XXXXXX");
	cr_assert(d && mkdtemp(d), "mkdtemp: %s", strerror(errno));
	return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void t_rmdir(char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

void t_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s: %s", path, strerror(errno));
	cr_assert(fputs(text, f) >= 0);
	cr_assert_eq(fclose(f), 0);
}

char *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	char chunk[4096];
	size_t k;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, k, m);
	fclose(f);
	fclose(m);
	if (len)
		*len = n;
	return buf;
}

const char *t_uri(const char *dir)
{
	static _Thread_local char buf[4200];
	snprintf(buf, sizeof(buf), "sim://%s", dir);
	return buf;
}

const char *t_errname(void)
{
	const struct xvm_error *e = xvm_last_error();
	return e ? e->name : "(none)";
}

const char *t_errmsg(void)
{
	const struct xvm_error *e = xvm_last_error();
	return e ? e->message : "(none)";
}

xvm_conn *t_connect(const char *dir)
{
	xvm_conn *c = NULL;
	int r = xvm_connect(t_uri(dir), 0, &c);
	cr_assert_eq(r, 0, "connect %s: %d %s: %s", t_uri(dir), r, t_errname(), t_errmsg());
	cr_assert_not_null(c);
	return c;
}

void t_check_error(const char *what, int r, int code, int nparams, ...)
{
	const struct xvm_error *e = xvm_last_error();
	cr_assert_eq(r, -code, "%s: returned %d (%s: %s), expected -%d (%s)", what, r, t_errname(), t_errmsg(),
		     code, xvm_error_code_name(code));
	cr_assert_not_null(e, "%s: no last error", what);
	cr_assert_eq(e->code, code, "%s: last error code %d, expected %d", what, e->code, code);
	cr_assert_str_eq(e->name, xvm_error_code_name(code), "%s", what);
	cr_assert(e->message && *e->message, "%s: empty message", what);
	if (nparams < 0)
		return;
	cr_assert_eq(e->nparams, (size_t)nparams, "%s: %s has %zu params, expected %d (message: %s)", what,
		     e->name, e->nparams, nparams, e->message);
	va_list ap;
	va_start(ap, nparams);
	for (int i = 0; i < nparams; i++) {
		const char *want = va_arg(ap, const char *);
		if (want)
			cr_assert_str_eq(e->params[i], want, "%s: %s param %d is '%s', expected '%s'", what,
					 e->name, i, e->params[i], want);
	}
	va_end(ap);
}

void t_check_bad_power(const char *what, int r, const char *vm, const char *expected, const char *actual)
{
	t_check_error(what, r, XVM_ERR_VM_BAD_POWER_STATE, 3, vm, NULL, NULL);
	const struct xvm_error *e = xvm_last_error();
	if (expected)
		cr_assert(strcasecmp(e->params[1], expected) == 0, "%s: the expected state is '%s', wanted '%s'",
			  what, e->params[1], expected);
	cr_assert(strcasecmp(e->params[2], actual) == 0, "%s: the actual state is '%s', wanted '%s'", what,
		  e->params[2], actual);
}

char *t_install(xvm_conn *c, const char *name)
{
	char *ref = NULL;
	T_OK(xvm_vm_install(c, "sim test", name, 0, &ref));
	cr_assert_not_null(ref);
	return ref;
}

struct json_object *t_get(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	struct json_object *v = NULL;
	int r = xvm_object_get_field(c, cls, ref, field, &v);
	cr_assert_eq(r, 0, "get %s.%s of %s: %d %s: %s", cls, field, ref, r, t_errname(), t_errmsg());
	return v;
}

const char *t_gets(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	static _Thread_local char *ring[32];
	static _Thread_local unsigned next;
	struct json_object *v = t_get(c, cls, ref, field);
	cr_assert(json_object_is_type(v, json_type_string), "%s.%s is not a string", cls, field);
	unsigned i = next++ % 32;
	free(ring[i]);
	ring[i] = strdup(json_object_get_string(v));
	json_object_put(v);
	return ring[i];
}

int64_t t_geti(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	struct json_object *v = t_get(c, cls, ref, field);
	cr_assert(json_object_is_type(v, json_type_int), "%s.%s is not an int: %s", cls, field,
		  json_object_to_json_string(v));
	int64_t n = json_object_get_int64(v);
	json_object_put(v);
	return n;
}

bool t_getb(xvm_conn *c, const char *cls, const char *ref, const char *field)
{
	struct json_object *v = t_get(c, cls, ref, field);
	cr_assert(json_object_is_type(v, json_type_boolean), "%s.%s is not a bool", cls, field);
	bool b = json_object_get_boolean(v);
	json_object_put(v);
	return b;
}

int t_set_json(xvm_conn *c, const char *cls, const char *ref, const char *field, const char *json_text)
{
	struct json_object *v = json_tokener_parse(json_text);
	cr_assert(v || strcmp(json_text, "null") == 0, "bad JSON in test: %s", json_text);
	int r = xvm_object_set_field(c, cls, ref, field, v);
	json_object_put(v);
	return r;
}

int t_set_str(xvm_conn *c, const char *cls, const char *ref, const char *field, const char *value)
{
	struct json_object *v = json_object_new_string(value);
	int r = xvm_object_set_field(c, cls, ref, field, v);
	json_object_put(v);
	return r;
}

int t_set_int(xvm_conn *c, const char *cls, const char *ref, const char *field, int64_t value)
{
	struct json_object *v = json_object_new_int64(value);
	int r = xvm_object_set_field(c, cls, ref, field, v);
	json_object_put(v);
	return r;
}

bool t_has(struct json_object *array, const char *s)
{
	cr_assert(json_object_is_type(array, json_type_array), "not an array");
	for (size_t i = 0; i < json_object_array_length(array); i++) {
		struct json_object *v = json_object_array_get_idx(array, i);
		if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), s) == 0)
			return true;
	}
	return false;
}

size_t t_len(struct json_object *array)
{
	cr_assert(json_object_is_type(array, json_type_array), "not an array: %s",
		  json_object_to_json_string(array));
	return json_object_array_length(array);
}

unsigned t_hv_domains(const char *dir, const char *uuid)
{
	char *saved = getenv("XVM_HC_FAULT") ? strdup(getenv("XVM_HC_FAULT")) : NULL;
	unsetenv("XVM_HC_FAULT");
	struct xvm_hv *hv = NULL;
	int r = xvm_hv_open("sim", dir, 0, &hv);
	if (saved) {
		setenv("XVM_HC_FAULT", saved, 1);
		free(saved);
	}
	cr_assert_eq(r, 0, "xvm_hv_open(sim, %s): %d %s", dir, r, xvm_hv_last_error(NULL));
	static struct xvm_hc_domain_info doms[256];
	struct xvm_hc_domain_list l = { .head = XVM_HC_HEAD(0), .capacity = 256, .domains = doms };
	r = xvm_hypercall(hv, XVM_HC_DOMAIN_LIST, &l);
	cr_assert_eq(r, 0, "domain_list: %d %s", r, xvm_hv_last_error(hv));
	unsigned n = 0;
	for (uint32_t i = 0; i < l.count; i++)
		if (!uuid || strcmp(doms[i].uuid, uuid) == 0)
			n++;
	xvm_hv_close(hv);
	return n;
}
